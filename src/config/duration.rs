//! Human durations (`365d`, `8h`, `1d12h`) as the config writes them, in whole minutes, which is
//! the unit Workspace ONE Access takes for token lifetimes.

use std::fmt;

/// The longest duration a config may name: 2,147,483,647 minutes (about 4,083 years). WS1 Access
/// holds an OAuth client's `accessTokenTTL` as an int32 count of minutes (`"format": "int32"` in
/// both its swagger and the EUC developer OpenAPI); the real maximum it accepts is UNVERIFIED
/// (reference/ws1-api.md §4.2), so this is the most it can possibly hold. A longer TTL passed
/// validate and plan, and the apply that created the client with it failed.
pub const MAX: Minutes = Minutes(i32::MAX as u64);

/// A duration in whole minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Minutes(pub u64);

/// Why a duration could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("`{0}` has a number without a unit: write e.g. `365d`, `8h`, `90m`")]
    MissingUnit(String),
    #[error("unknown unit `{0}`: use m (minutes), h, d or w")]
    UnknownUnit(String),
    #[error("`{0}` is too large")]
    Overflow(String),
    #[error("a token lifetime cannot be zero")]
    Zero,
}

impl Minutes {
    /// Parses `365d`, `8h`, `90m`, `2w`, or combinations such as `1d12h`.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                let unit: String = rest.chars().take_while(|c| !c.is_ascii_digit()).collect();
                return Err(DurationError::UnknownUnit(unit));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| DurationError::Overflow(text.to_owned()))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let per = match &rest[..unit_len] {
                "m" | "min" => 1,
                "h" => 60,
                "d" => 60 * 24,
                "w" => 60 * 24 * 7,
                "" => return Err(DurationError::MissingUnit(text.to_owned())),
                other => return Err(DurationError::UnknownUnit(other.to_owned())),
            };
            rest = &rest[unit_len..];
            total = number
                .checked_mul(per)
                .and_then(|m| total.checked_add(m))
                .ok_or_else(|| DurationError::Overflow(text.to_owned()))?;
        }
        if total == 0 {
            return Err(DurationError::Zero);
        }
        Ok(Minutes(total))
    }
}

impl fmt::Display for Minutes {
    /// The largest whole unit: `365d`, `8h`, `90m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m.is_multiple_of(60 * 24) {
            write!(f, "{}d", m / (60 * 24))
        } else if m.is_multiple_of(60) {
            write!(f, "{}h", m / 60)
        } else {
            write!(f, "{m}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let cases = [
            ("365d", 525_600, "365d"),
            ("8h", 480, "8h"),
            ("90m", 90, "90m"),
            ("1d12h", 2160, "36h"),
            ("2w", 20160, "14d"),
        ];
        for (input, minutes, shown) in cases {
            let parsed = Minutes::parse(input).unwrap();
            assert_eq!(parsed, Minutes(minutes), "{input}");
            assert_eq!(parsed.to_string(), shown);
        }
    }

    #[test]
    fn rejects_bad_durations() {
        assert_eq!(
            Minutes::parse("365"),
            Err(DurationError::MissingUnit("365".into()))
        );
        assert_eq!(
            Minutes::parse("1y"),
            Err(DurationError::UnknownUnit("y".into()))
        );
        assert_eq!(Minutes::parse("0d"), Err(DurationError::Zero));
        assert_eq!(
            Minutes::parse("d"),
            Err(DurationError::UnknownUnit("d".into()))
        );
        assert_eq!(Minutes::parse(""), Err(DurationError::Empty));
        // Past u64, by the number or by its unit: an error, never a wrapped value.
        for huge in [
            "18446744073709551616m",
            "18446744073709551615h",
            "1m18446744073709551615m",
        ] {
            assert_eq!(
                Minutes::parse(huge),
                Err(DurationError::Overflow(huge.into()))
            );
        }
    }
}
