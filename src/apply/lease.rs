//! The apply lease: one apply at a time writes to a tenant pair.
//!
//! There is no state file and no lock service, so the lease lives where scimbridge's state
//! lives: the managed block of the Okta app ([`Lease`]: a random run id and an expiry, server
//! time). An apply with something to write takes it before its first write and gives it back
//! after its last; a run that dies leaves it to lapse ([`LEASE_FOR`] after it was last renewed).
//! An apply with nothing to write takes no lease, so a converged pair sees no write at all.
//!
//! Okta offers no compare-and-set on apps, so taking the lease is: read the app and refuse
//! another run's unexpired lease; write ours; wait twice as long as that read-and-write took
//! (a run that read before our write has written by then); read again and go on only if the
//! lease is still ours and the managed block is otherwise as the plan saw it (a run that held
//! the lease before us may have minted or recorded a token since; this run's plan is then
//! stale). Every later write of the block checks the lease again ([`super::applier`]), so two
//! runs that both passed here can record no more than one token between them. When the plan
//! creates the app, the lease goes into the new app's block, and Okta's unique labels stop a
//! second run's create.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ring::rand::{SecureRandom, SystemRandom};

use super::applier::{held_by_us, non_empty, rewrite_app};
use crate::ids::OktaAppId;
use crate::state::note::{self, Lease, ManagedBlock};
use crate::state::read::Services;
use crate::state::{Live, Timestamp};

/// How long a lease lasts without renewal.
pub const LEASE_FOR: u64 = 15;
/// How often a running apply renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(5 * 60);

/// A new lease for this run, from the servers' clock.
pub fn new_lease(services: &Services) -> Lease {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    let run: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let now = services
        .okta
        .server_now()
        .or(services.ws1.server_now())
        .unwrap_or_default();
    Lease {
        run,
        until: Timestamp(now).plus_minutes(LEASE_FOR),
    }
}

/// Takes `lease` on the app `before` read (nothing to take when the plan creates the app: the
/// lease goes into its block). Refuses, having written nothing or only the lease it then gives
/// back, when another apply holds it or has changed the managed block since `before`.
pub async fn take(
    services: &Services,
    before: &Live,
    key: &str,
    lease: &Lease,
) -> anyhow::Result<()> {
    let Some(app) = &before.okta.app else {
        return Ok(());
    };
    let okta = &services.okta;
    let started = Instant::now();
    let mut current = okta
        .get_app(&app.id)
        .await
        .context("cannot read the app to take the lease")?;
    let (user, block) = note::split(current.admin_note.as_deref().unwrap_or_default());
    let now = okta.server_now().unwrap_or_default();
    if let Some(other) = block.as_ref().and_then(|b| b.lease.as_ref())
        && other.run != lease.run
        && other.until.0 > now
    {
        bail!(
            "another apply (run {}) holds the app's lease until {} (server time): nothing was changed; plan again once it has finished (a run that was killed leaves its lease to lapse then)",
            other.run,
            other.until
        );
    }
    let mut block = block.unwrap_or_else(|| ManagedBlock::new(key));
    block.lease = Some(lease.clone());
    current.set_admin_note(&note::compose(non_empty(&user), &block));
    okta.replace_app(&current)
        .await
        .context("cannot write the lease into the app's managed block")?;
    // A run that read the app before our write has written its own lease by now.
    tokio::time::sleep(started.elapsed() * 2).await;
    let again = okta
        .get_app(&app.id)
        .await
        .context("cannot read the app to check the lease")?;
    let (user, block) = note::split(again.admin_note.as_deref().unwrap_or_default());
    held_by_us(block.as_ref(), lease)?;
    let unleased = |b: Option<ManagedBlock>| {
        b.map(|mut b| {
            b.lease = None;
            b
        })
    };
    let seen = unleased(app.managed.clone()).map(|mut b| {
        if b.key.is_empty() {
            b.key = key.to_owned();
        }
        b
    });
    let stale = unleased(block) != seen.or_else(|| Some(ManagedBlock::new(key)))
        || non_empty(&user) != app.admin_note.as_deref();
    if stale {
        release(services, &app.id, lease).await;
        bail!(
            "the app's managed block changed since this plan read it (another apply ran meanwhile?): nothing was changed; plan again"
        );
    }
    Ok(())
}

/// Runs `work` while renewing the lease on `app` every few minutes, so a long apply keeps it.
pub async fn renewing<T>(
    services: &Services,
    app: impl Fn() -> Option<OktaAppId>,
    lease: &Lease,
    work: impl std::future::Future<Output = T>,
) -> T {
    let renew = async {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let Some(id) = app() else { continue };
            let now = services.okta.server_now().unwrap_or_default();
            let until = Timestamp(now).plus_minutes(LEASE_FOR);
            let renewed = rewrite_app(&services.okta, &id, Some(lease), |_, _, block| {
                if let Some(held) = block.lease.as_mut() {
                    held.until = until;
                }
            })
            .await;
            if let Err(e) = renewed {
                tracing::warn!("cannot renew the apply lease: {e:#}");
            }
        }
    };
    tokio::select! {
        out = work => out,
        never = renew => never,
    }
}

/// Gives the lease back; if that fails it lapses by itself, which is said.
pub async fn release(services: &Services, app: &OktaAppId, lease: &Lease) {
    let released = rewrite_app(&services.okta, app, Some(lease), |_, _, block| {
        block.lease = None;
    })
    .await;
    if let Err(e) = released {
        tracing::warn!(
            "cannot give the apply lease back; it lapses at {}: {e:#}",
            lease.until
        );
    }
}
