//! References to values kept outside the config file: `${env:NAME}` and `${file:PATH}`.
//!
//! The config lives in Git, so secrets may only be references; a literal where a secret belongs
//! is an error. Non-secret values (URLs, the admin client id) may be either, so one file runs
//! against the sandbox or a real tenant. Resolution happens at the edge: `validate` only warns
//! about what it cannot resolve, `plan`/`apply` fail on it.

use std::path::{Path, PathBuf};

use super::source::{FILE_REFERENCE_LIMIT, ReadError, read_text};
use crate::secret::Secret;

/// Where a referenced value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// `${env:NAME}`: an environment variable.
    Env(String),
    /// `${file:PATH}`: a file's contents, trailing newline trimmed; relative to the config file.
    File(PathBuf),
}

/// Why a `${…}` could not be read as a reference.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unterminated reference: `${{` without a closing `}}`")]
    Unterminated,
    #[error("unknown reference kind `{0}`: use `${{env:NAME}}` or `${{file:PATH}}`")]
    UnknownKind(String),
    #[error("`{0}` is not a valid environment variable name")]
    BadEnvName(String),
    #[error("empty file path in `${{file:}}`")]
    EmptyPath,
    #[error("a reference must be the whole value, not part of it")]
    Embedded,
}

/// Why a reference could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("environment variable `{0}` is not set")]
    EnvUnset(String),
    #[error("cannot read `{path}`: {reason}")]
    File { path: String, reason: String },
    /// The file exists but is refused by the bounded reader (not a regular file, too large,
    /// not UTF-8): unlike a missing file, that is wrong wherever the config runs.
    #[error("`{path}` {error}")]
    Refused { path: String, error: ReadError },
    /// A secret that resolves to nothing (or only whitespace): the reference, never the value.
    #[error("`{0}` is empty: a secret needs a value")]
    Empty(String),
}

impl ResolveError {
    /// A stable, kebab-case name for diagnostics.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::EnvUnset(_) => "env-unset",
            ResolveError::File { .. } => "file-unreadable",
            ResolveError::Refused { error, .. } => error.code(),
            ResolveError::Empty(_) => "empty-secret",
        }
    }

    /// Whether the problem may just be this machine's (a variable or file a pull-request check
    /// does not have), so `validate` only warns about it.
    pub fn may_be_absent_here(&self) -> bool {
        // An empty variable included: CI systems pass a secret a fork's pull request may not
        // see as an empty string (GitHub Actions does).
        matches!(
            self,
            ResolveError::EnvUnset(_) | ResolveError::File { .. } | ResolveError::Empty(_)
        )
    }
}

impl Reference {
    /// Reads `text` as a reference: `Ok(None)` when it contains no `${` at all (a literal).
    pub fn parse(text: &str) -> Result<Option<Reference>, ParseError> {
        let trimmed = text.trim();
        let Some(start) = trimmed.find("${") else {
            return Ok(None);
        };
        let Some(inner) = trimmed[start + 2..].strip_suffix('}') else {
            return Err(if trimmed[start..].contains('}') {
                ParseError::Embedded
            } else {
                ParseError::Unterminated
            });
        };
        if start != 0 || inner.contains('}') {
            return Err(ParseError::Embedded);
        }
        let (kind, value) = inner.split_once(':').unwrap_or((inner, ""));
        match kind {
            "env" => {
                let valid = !value.is_empty()
                    && !value.starts_with(|c: char| c.is_ascii_digit())
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if valid {
                    Ok(Some(Reference::Env(value.to_owned())))
                } else {
                    Err(ParseError::BadEnvName(value.to_owned()))
                }
            }
            "file" if value.is_empty() => Err(ParseError::EmptyPath),
            "file" => Ok(Some(Reference::File(PathBuf::from(value)))),
            other => Err(ParseError::UnknownKind(other.to_owned())),
        }
    }

    /// Reads the value. `base` is the config file's folder, for relative file paths.
    pub fn resolve(&self, base: &Path) -> Result<String, ResolveError> {
        match self {
            Reference::Env(name) => {
                crate::env::var(name).ok_or_else(|| ResolveError::EnvUnset(name.clone()))
            }
            Reference::File(path) => {
                let full = base.join(path);
                let path = full.display().to_string();
                match read_text(&full, FILE_REFERENCE_LIMIT, "`${file:}` reference") {
                    Ok(text) => Ok(text.trim_end_matches(['\n', '\r']).to_owned()),
                    Err(ReadError::Io(err)) => Err(ResolveError::File {
                        path,
                        reason: err.kind().to_string(),
                    }),
                    Err(error) => Err(ResolveError::Refused { path, error }),
                }
            }
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Env(name) => write!(f, "${{env:{name}}}"),
            Reference::File(path) => write!(f, "${{file:{}}}", path.display()),
        }
    }
}

/// A non-secret value: written in the file, or referenced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    Literal(String),
    Ref(Reference),
}

impl Param {
    /// The value, resolving a reference.
    pub fn resolve(&self, base: &Path) -> Result<String, ResolveError> {
        match self {
            Param::Literal(value) => Ok(value.clone()),
            Param::Ref(reference) => reference.resolve(base),
        }
    }
}

/// A secret: always a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef(pub Reference);

impl SecretRef {
    /// The secret value, wrapped so it cannot be printed. An empty (or all-whitespace) value
    /// is refused: every service would answer it with a refusal, after connections were made.
    pub fn resolve(&self, base: &Path) -> Result<Secret, ResolveError> {
        let value = self.0.resolve(base)?;
        if value.trim().is_empty() {
            return Err(ResolveError::Empty(self.0.to_string()));
        }
        Ok(Secret::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_and_literals() {
        let cases: &[(&str, Result<Option<Reference>, ParseError>)] = &[
            ("plain", Ok(None)),
            (
                "${env:OKTA_API_TOKEN}",
                Ok(Some(Reference::Env("OKTA_API_TOKEN".into()))),
            ),
            (
                "${file:secrets/token}",
                Ok(Some(Reference::File("secrets/token".into()))),
            ),
            ("${env:1BAD}", Err(ParseError::BadEnvName("1BAD".into()))),
            ("${env:}", Err(ParseError::BadEnvName("".into()))),
            ("${vault:x}", Err(ParseError::UnknownKind("vault".into()))),
            ("${env:X", Err(ParseError::Unterminated)),
            ("https://${env:HOST}", Err(ParseError::Embedded)),
            ("${file:}", Err(ParseError::EmptyPath)),
        ];
        for (input, expected) in cases {
            assert_eq!(&Reference::parse(input), expected, "{input}");
        }
    }
}
