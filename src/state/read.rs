//! The reader: fills a [`Live`] value from both services, sending read requests only.
//!
//! What must hold: nothing here writes, mints a token for the SCIM client or changes a cached
//! object (the sandbox's request log proves it in the end-to-end tests); independent reads run
//! concurrently; every object read gets a fingerprint so a stale saved plan can be refused; the
//! time recorded is the servers' (`Date` headers), never this machine's. Which app is ours is
//! decided here, once: the app whose managed block carries the config's key, else one with the
//! config's label and no managed block (adoption), else none (the plan creates it).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::*;
use crate::config::Resolved;
use crate::config::model::Desired;
use crate::providers::okta::{self, Capability, OktaClient};
use crate::providers::ws1::Ws1Client;
use crate::providers::{ApiError, HttpSettings};
use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt, stream};

/// Up to this many logins are looked up one by one; beyond, listing every user takes fewer
/// requests (200 a page, reference/okta-api.md §3).
pub(crate) const LOOKUP_LIMIT: usize = 50;

/// Up to this many group names are looked up one by one; beyond, one listing of every group
/// (up to 10,000 a page) is fewer requests.
const GROUP_LOOKUP_LIMIT: usize = 3;
/// How many single-object reads run at once.
const READ_CONCURRENCY: usize = 8;

/// The two provider clients, authenticated as scimbridge itself.
#[derive(Clone)]
pub struct Services {
    pub okta: OktaClient,
    pub ws1: Ws1Client,
}

impl Services {
    /// Clients for the services the resolved config names.
    pub fn connect(resolved: &Resolved, settings: HttpSettings) -> anyhow::Result<Self> {
        let okta = OktaClient::new(
            &resolved.okta_org_url,
            &resolved.okta_api_token,
            settings.clone(),
        )
        .context("okta.org_url")?;
        let ws1 = Ws1Client::new(
            &resolved.ws1_tenant_url,
            &resolved.ws1_client_id,
            resolved.ws1_client_secret.clone(),
            settings,
        )
        .context("ws1.tenant_url")?;
        Ok(Self { okta, ws1 })
    }
}

/// Reads everything the config names from both services.
pub async fn read(desired: &Desired, services: &Services) -> anyhow::Result<Live> {
    let (ws1, okta) = tokio::try_join!(
        read_ws1(desired, &services.ws1),
        read_okta(desired, &services.okta)
    )?;
    let observed_at = [services.okta.server_now(), services.ws1.server_now()]
        .into_iter()
        .flatten()
        .max()
        .map(Timestamp);
    let mut live = Live {
        observed_at,
        ws1,
        okta,
        fingerprints: BTreeMap::new(),
    };
    live.fingerprints = fingerprints(&live);
    Ok(live)
}

async fn read_ws1(desired: &Desired, ws1: &Ws1Client) -> anyhow::Result<Ws1Live> {
    let want = &desired.ws1;
    let (client, directory) = tokio::try_join!(
        async {
            ws1.get_oauth2_client(want.scim_client.client_id.as_str())
                .await
                .context("cannot read the WS1 SCIM OAuth client")
        },
        async {
            ws1.directory_by_name(want.directory.name.as_str())
                .await
                .context("cannot read the WS1 directories")
        }
    )?;
    // `scope` and `authGrantTypes` are required by the client's schema (ws1-api §4.2), so the
    // client refused an answer without them; `accessTokenTTL` is not, and stays unknown.
    let scim_client = client.map(|c| OAuthClientLive {
        client_id: c.client_id,
        scope: c.scope,
        grant_types: c.auth_grant_types,
        access_token_ttl: c.access_token_ttl,
    });
    let directory = match directory {
        None => None,
        Some(d) => {
            // The list may omit domains (reference/ws1-api.md §5): read them on their own.
            let domains = match d.domains {
                Some(domains) if !domains.is_empty() => domains,
                _ => ws1
                    .directory_domains(&d.directory_id)
                    .await
                    .context("cannot read the WS1 directory's domains")?,
            };
            Some(DirectoryLive {
                id: d.directory_id,
                name: d.name,
                kind: d.type_,
                domains,
            })
        }
    };
    Ok(Ws1Live {
        scim_client,
        directory,
    })
}

async fn read_okta(desired: &Desired, okta: &OktaClient) -> anyhow::Result<OktaLive> {
    let app_want = &desired.okta.app;
    let logins: Vec<&str> = app_want
        .users
        .members
        .iter()
        .map(|m| m.value.as_str())
        .collect();
    let group_names: BTreeSet<&str> = app_want
        .groups
        .members
        .iter()
        .chain(&app_want.group_push)
        .map(|m| m.value.as_str())
        .collect();
    // The app's reads (its user pages above all) overlap the org's group pages. Its users come
    // with their Okta user embedded (`expand=user`), so only the config's logins not among
    // them are looked up afterwards: none at all once everything is assigned.
    let app_parts = async {
        match find_app(desired, okta).await? {
            None => Ok(None),
            Some(app) => {
                let parts = fetch_app(okta, &app.id, !app_want.group_push.is_empty()).await?;
                Ok::<_, anyhow::Error>(Some((app, parts)))
            }
        }
    };
    let (found, groups) = tokio::try_join!(app_parts, read_groups(okta, &group_names))?;
    // Okta logins compare case-insensitively; the app users' logins, lowercased.
    let assigned: HashSet<Cow<str>> = found
        .iter()
        .flat_map(|(_, parts)| &parts.users)
        .filter_map(|u| match u {
            AppUserRead::Complete(live) => Some(lowercase(&live.login)),
            AppUserRead::Bare(_) => None,
        })
        .collect();
    let missing: Vec<&str> = logins
        .iter()
        .copied()
        .filter(|l| !assigned.contains(&lowercase(l)))
        .collect();
    drop(assigned);
    let seen = read_users(okta, &missing).await?;
    let users = by_login(&missing, &seen);
    let user_logins: BTreeMap<OktaUserId, okta::User> =
        seen.into_iter().map(|u| (u.id.clone(), u)).collect();
    let GroupsByName {
        ids: groups,
        names: group_names_by_id,
        ambiguous: ambiguous_groups,
    } = groups;
    let app = match found {
        None => None,
        Some((app, parts)) => {
            Some(finish_app(okta, app, parts, user_logins, group_names_by_id).await?)
        }
    };
    Ok(OktaLive {
        app,
        users,
        groups,
        ambiguous_groups,
    })
}

/// Finds our app among the apps of the config's catalog name.
async fn find_app(desired: &Desired, okta: &OktaClient) -> anyhow::Result<Option<okta::App>> {
    let want = &desired.okta.app;
    let filter = format!("name eq \"{}\"", want.catalog_name);
    let apps = okta
        .list_apps(None, Some(&filter))
        .await
        .context("cannot list the Okta apps")?;
    let key = want.key.to_string();
    let block = |app: &okta::App| {
        app.admin_note
            .as_deref()
            .and_then(|n| note::split(n).1)
            .map(|b| b.key)
    };
    let ours: Vec<okta::App> = apps
        .iter()
        .filter(|a| block(a).as_deref() == Some(key.as_str()))
        .cloned()
        .collect();
    match ours.len() {
        0 => {}
        1 => return Ok(ours.into_iter().next()),
        n => anyhow::bail!(
            "{n} Okta apps carry the managed key `{key}` ({}): keep one and delete the others' managed block",
            ours.iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    // Adoption: an app set up by hand has our label and no managed block yet.
    Ok(apps
        .into_iter()
        .find(|a| a.label == want.label && block(a).is_none()))
}

/// Runs `read` for every item, [`READ_CONCURRENCY`] at a time, and gathers what was found.
pub(crate) async fn each<I, C, F, Fut>(items: I, read: F) -> anyhow::Result<Vec<C::Item>>
where
    I: IntoIterator,
    C: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<C>>,
{
    let found: Vec<C> = stream::iter(items.into_iter().map(read))
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The Okta users with these logins: one lookup each, or past [`LOOKUP_LIMIT`] every user
/// listed (fewer requests).
async fn read_users(okta: &OktaClient, logins: &[&str]) -> anyhow::Result<Vec<okta::User>> {
    if logins.len() > LOOKUP_LIMIT {
        return okta.all_users().await.context("cannot list the Okta users");
    }
    each(logins, |login| async move {
        okta.user_by_login(login)
            .await
            .with_context(|| format!("cannot look up the Okta user `{login}`"))
    })
    .await
}

/// The config's logins not among the app's users → the ids of the users looked up (`seen`).
/// Okta logins compare case-insensitively; the config's spelling is the key.
fn by_login(logins: &[&str], seen: &[okta::User]) -> BTreeMap<String, OktaUserId> {
    let looked_up: HashMap<Cow<str>, &OktaUserId> = seen
        .iter()
        .map(|u| (lowercase(&u.profile.login), &u.id))
        .collect();
    logins
        .iter()
        .filter_map(|l| {
            let id = looked_up.get(&lowercase(l))?;
            Some(((*l).to_owned(), (*id).clone()))
        })
        .collect()
}

/// The config's group names → ids, and every group id seen → name.
async fn read_groups(okta: &OktaClient, names: &BTreeSet<&str>) -> anyhow::Result<GroupsByName> {
    let groups: Vec<okta::Group> = if names.len() > GROUP_LOOKUP_LIMIT {
        okta.all_groups()
            .await
            .context("cannot list the Okta groups")?
    } else {
        each(names, |name| async move {
            okta.groups_by_name(name)
                .await
                .with_context(|| format!("cannot look up the Okta group `{name}`"))
        })
        .await?
    };
    let by_id: BTreeMap<OktaGroupId, String> = groups
        .iter()
        .map(|g| (g.id.clone(), g.profile.name.clone()))
        .collect();
    // Every group of each name the config uses, once (lookups by prefix may see one twice).
    let mut matches: BTreeMap<String, BTreeSet<OktaGroupId>> = BTreeMap::new();
    for (id, name) in &by_id {
        if names.contains(name.as_str()) {
            matches.entry(name.clone()).or_default().insert(id.clone());
        }
    }
    let mut ids = BTreeMap::new();
    let mut ambiguous = BTreeMap::new();
    for (name, found) in matches {
        let mut found: Vec<OktaGroupId> = found.into_iter().collect();
        if found.len() == 1 {
            ids.insert(name, found.remove(0));
        } else {
            ambiguous.insert(name, found);
        }
    }
    Ok(GroupsByName {
        ids,
        names: by_id,
        ambiguous,
    })
}

/// The config's group names → ids, every group id seen → name, and the names several Okta
/// groups share (the config cannot say which it means).
struct GroupsByName {
    ids: BTreeMap<String, OktaGroupId>,
    names: BTreeMap<OktaGroupId, String>,
    ambiguous: BTreeMap<String, Vec<OktaGroupId>>,
}

/// What is read about the app besides the app object itself.
struct AppParts {
    connection: Capability<okta::ProvisioningConnection>,
    features: Capability<Vec<okta::AppFeature>>,
    schema: okta::AppUserSchema,
    mapping: MappingLive,
    users: Vec<AppUserRead>,
    groups: Vec<okta::AppGroup>,
    pushes: Vec<okta::GroupPushMapping>,
}

/// Reads the app's parts; its group push mappings only when the config pushes groups (Okta may
/// refuse the read before provisioning is set up, which then means none).
async fn fetch_app(
    okta: &OktaClient,
    id: &OktaAppId,
    wants_push: bool,
) -> anyhow::Result<AppParts> {
    let ctx = |what: &str| format!("cannot read the Okta app's {what}");
    let (connection, features, schema, mapping, users, groups, pushes) = tokio::try_join!(
        async {
            okta.connection(id)
                .await
                .with_context(|| ctx("provisioning connection"))
        },
        async { okta.features(id).await.with_context(|| ctx("features")) },
        async {
            okta.app_user_schema(id)
                .await
                .with_context(|| ctx("user schema"))
        },
        async {
            user_mapping(okta, id)
                .await
                .with_context(|| ctx("profile mapping"))
        },
        async {
            okta.app_users_each(id, AppUserRead::of)
                .await
                .with_context(|| ctx("users"))
        },
        async { okta.app_groups(id).await.with_context(|| ctx("groups")) },
        async {
            if !wants_push {
                return Ok(Vec::new());
            }
            match okta
                .group_push_mappings(id)
                .await
                .with_context(|| ctx("group push mappings"))?
            {
                Capability::Supported(pushes) => Ok(pushes),
                Capability::Unsupported => Ok(Vec::new()),
            }
        },
    )?;
    Ok(AppParts {
        connection,
        features,
        schema,
        mapping,
        users,
        groups,
        pushes,
    })
}

/// Names the app's users and groups and builds its [`AppLive`].
async fn finish_app(
    okta: &OktaClient,
    app: okta::App,
    parts: AppParts,
    known_users: BTreeMap<OktaUserId, okta::User>,
    mut group_names: BTreeMap<OktaGroupId, String>,
) -> anyhow::Result<AppLive> {
    let AppParts {
        connection,
        features,
        schema,
        mapping,
        users,
        groups,
        pushes,
    } = parts;
    let users = app_users_live(okta, users, known_users).await?;
    // Groups assigned outside the config are named by a lookup of their own.
    let unknown_groups: Vec<OktaGroupId> = groups
        .iter()
        .map(|g| g.id.clone())
        .chain(pushes.iter().map(|p| p.source_group_id.clone()))
        .filter(|g| !group_names.contains_key(g))
        .collect();
    let found: Vec<okta::Group> = each(&unknown_groups, |gid| async move {
        okta.get_group(gid)
            .await
            .with_context(|| format!("cannot read the Okta group {gid}"))
    })
    .await?;
    group_names.extend(found.into_iter().map(|g| (g.id, g.profile.name)));

    let (admin_note, managed) = match app.admin_note.as_deref() {
        Some(text) => {
            let (user, block) = note::split(text);
            ((!user.is_empty()).then_some(user), block)
        }
        None => (None, None),
    };
    let capabilities = Capabilities {
        connection_api: matches!(connection, Capability::Supported(_)),
        features_api: matches!(features, Capability::Supported(_)),
    };
    let connection = match connection {
        Capability::Supported(c) => Some(ConnectionLive {
            status: c.status,
            base_url: c.base_url,
        }),
        Capability::Unsupported => None,
    };
    let base_attributes = schema.base.keys().cloned().collect();
    let attributes = schema
        .custom
        .iter()
        .map(|(name, a)| {
            let required = a.required.unwrap_or(false) || schema.custom_required.contains(name);
            let live = AttributeLive {
                title: a.title.clone().unwrap_or_default(),
                kind: a.type_.clone().unwrap_or_default(),
                external_name: a.external_name.clone(),
                external_namespace: a.external_namespace.clone(),
                required,
                scope: a.scope.clone().unwrap_or_else(|| "NONE".into()),
            };
            (name.clone(), live)
        })
        .collect();
    let name_of = |id: &OktaGroupId| {
        group_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    Ok(AppLive {
        id: app.id.clone(),
        name: app.name,
        label: app.label,
        status: app.status,
        hide_web: app.hide_web,
        hide_mobile: app.hide_ios,
        username_kind: app.user_name_template_type.unwrap_or_default(),
        username_template: app.user_name_template.unwrap_or_default(),
        settings_base_url: app.settings_base_url,
        minting_file_ready: managed
            .as_ref()
            .and_then(|m| m.minting.as_ref())
            .and_then(|m| m.file.as_deref())
            .and_then(|f| std::fs::symlink_metadata(f).ok())
            .is_some_and(|m| m.is_file() && m.len() > 0),
        admin_note,
        managed,
        features: app.features,
        capabilities,
        connection,
        base_attributes,
        attributes,
        mapping,
        users,
        groups: groups
            .into_iter()
            .map(|g| AppGroupLive {
                name: name_of(&g.id),
                id: g.id,
            })
            .collect(),
        group_push: pushes
            .into_iter()
            .map(|p| PushLive {
                id: p.id,
                source_group_id: p.source_group_id,
                status: p.status,
            })
            .collect(),
    })
}

/// An app user as its page arrived: complete when Okta embedded its user (`expand=user`), else
/// bare, its user to be found among those already read or looked up.
// The common variant is the large one, kept unboxed: boxing it would cost an allocation per
// app user; boxing the rare one keeps the list the size of what is kept.
#[allow(clippy::large_enum_variant)]
pub enum AppUserRead {
    Complete(AppUserLive),
    Bare(Box<okta::AppUser>),
}

impl AppUserRead {
    /// Keeps only what the live state needs of an app user, as its page arrives.
    pub fn of(mut u: okta::AppUser) -> Self {
        match u.embedded.take().and_then(|e| e.user) {
            Some(user) => AppUserRead::Complete(live_of(u, Some(user))),
            None => AppUserRead::Bare(Box::new(u)),
        }
    }
}

/// The app's users in our own terms, each with its Okta user's login and profile: embedded by
/// `expand=user`, else among `known` (users already read), else looked up by id (reads only).
pub async fn app_users_live(
    okta: &OktaClient,
    users: Vec<AppUserRead>,
    mut known: BTreeMap<OktaUserId, okta::User>,
) -> anyhow::Result<Vec<AppUserLive>> {
    let unknown: Vec<OktaUserId> = users
        .iter()
        .filter_map(|u| match u {
            AppUserRead::Bare(u) if !known.contains_key(&u.id) => Some(u.id.clone()),
            _ => None,
        })
        .collect();
    let found: Vec<okta::User> = each(&unknown, |uid| async move {
        okta.user_by_id(uid)
            .await
            .with_context(|| format!("cannot read the Okta user {uid}"))
    })
    .await?;
    known.extend(found.into_iter().map(|u| (u.id.clone(), u)));
    Ok(users
        .into_iter()
        .map(|u| match u {
            AppUserRead::Complete(live) => live,
            AppUserRead::Bare(u) => {
                let user = known.get(&u.id).cloned();
                live_of(*u, user)
            }
        })
        .collect())
}

/// An app user in our own terms, with its Okta user when known (moved in, not copied: a read
/// holds one of these per app user).
fn live_of(u: okta::AppUser, user: Option<okta::User>) -> AppUserLive {
    let (login, profile) = match user {
        Some(user) => {
            let p = user.profile;
            let fields = UserFields::new([
                None,
                p.email.as_deref(),
                p.first_name.as_deref(),
                p.last_name.as_deref(),
            ]);
            (p.login, fields)
        }
        None => (u.id.to_string(), UserFields::default()),
    };
    AppUserLive {
        login,
        profile,
        id: u.id,
        scope: super::word(u.scope),
        status: Some(super::word(u.status)),
        sync_state: u.sync_state.map(super::word),
        // `OktaClient::app_users_each` refused a `lastSync` that does not parse.
        last_sync: u.last_sync.as_deref().and_then(Timestamp::parse_rfc3339),
    }
}

async fn user_mapping(okta: &OktaClient, app: &OktaAppId) -> Result<MappingLive, ApiError> {
    Ok(mapping_live(okta.user_to_app_mapping(app).await?))
}

/// The mapping in our terms. A property without an expression maps nothing: okta-api §9
/// removes a mapping by sending `{"expression": null, "pushStatus": null}`, and §3 lets Okta
/// omit null properties. Read as an empty expression, it would be planned for removal on every
/// run (or as a change from "" to the configured one, where it is simply unmapped).
fn mapping_live(mapping: okta::ProfileMapping) -> MappingLive {
    MappingLive {
        id: Some(mapping.id),
        properties: mapping
            .properties
            .into_iter()
            .filter_map(|(target, p)| {
                let live = MappingPropertyLive {
                    expression: p.expression?,
                    push_status: p.push_status.unwrap_or_else(|| "PUSH".into()),
                };
                Some((target, live))
            })
            .collect(),
    }
}

/// A short digest of every object read, by address, covering every field the planner compares
/// (and nothing that changes without changing a plan: sync times, profiles). A saved plan is
/// applied only while these are unchanged.
/// The managed block without its lease.
pub fn unleased(app: &AppLive) -> Option<ManagedBlock> {
    app.managed.clone().map(|mut block| {
        block.lease = None;
        block
    })
}

pub fn fingerprints(live: &Live) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |address: &str, value: &dyn erased::Digestible| {
        out.insert(address.to_owned(), value.digest());
    };
    add("ws1.scim_client", &live.ws1.scim_client);
    add("ws1.directory", &live.ws1.directory);
    add("okta.users", &live.okta.users);
    add(
        "okta.groups",
        &(&live.okta.groups, &live.okta.ambiguous_groups),
    );
    if let Some(app) = &live.okta.app {
        add(
            "okta.app",
            &(
                (&app.id, &app.name, &app.label, &app.status),
                (&app.hide_web, &app.hide_mobile),
                (&app.username_kind, &app.username_template),
                // The lease is who applies now, not what is there: a run's own lease must
                // not make its plan look stale.
                (&app.settings_base_url, &app.admin_note, &unleased(app)),
                app.minting_file_ready,
                (&app.features, &app.capabilities),
            ),
        );
        add("okta.app.connection", &app.connection);
        add(
            "okta.app.attributes",
            &(&app.base_attributes, &app.attributes),
        );
        add("okta.app.mapping", &app.mapping);
        // Who is assigned, and whether anyone is provisioned yet (it decides "Apply updates
        // now"); not sync states or times, which change with every push.
        let users: Vec<_> = app
            .users
            .iter()
            .map(|u| (&u.id, &u.login, &u.scope))
            .collect();
        let provisioned = app
            .users
            .iter()
            .any(|u| u.status.as_deref() == Some("PROVISIONED"));
        add("okta.app.users", &(users, provisioned));
        add("okta.app.groups", &app.groups);
        add("okta.app.group_push", &app.group_push);
    } else {
        add("okta.app", &Option::<()>::None);
    }
    out
}

mod erased {
    use serde::Serialize;

    /// Anything serializable, digested as SHA-256 of its JSON (first 16 hex digits). The JSON
    /// is written into the digest as it is produced, never held: 100,000 app users are megabytes.
    pub trait Digestible {
        fn digest(&self) -> String;
    }

    impl<T: Serialize> Digestible for T {
        fn digest(&self) -> String {
            let mut sink = Sink(ring::digest::Context::new(&ring::digest::SHA256));
            // Writing to the digest cannot fail, and our types always serialize.
            let _ = serde_json::to_writer(&mut sink, self);
            let mut hex = super::hex(sink.0.finish().as_ref());
            hex.truncate(16);
            hex
        }
    }

    struct Sink(ring::digest::Context);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

/// SHA-256 of `bytes`, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_property_without_an_expression_is_unmapped() {
        let mapping: okta::ProfileMapping = serde_json::from_value(serde_json::json!({
            "id": "prm1",
            "source": {"id": "oty1", "name": "user", "type": "user"},
            "target": {"id": "0oa1", "name": "scim1testapp", "type": "appuser"},
            "properties": {
                "userName": {"expression": "user.login", "pushStatus": "PUSH"},
                "nickName": {"expression": null, "pushStatus": null},
                "locale": {"pushStatus": "PUSH"},
            },
        }))
        .expect("a mapping");
        let live = mapping_live(mapping);
        assert_eq!(live.properties.keys().collect::<Vec<_>>(), ["userName"]);
        assert_eq!(live.properties["userName"].expression, "user.login");
    }
}
