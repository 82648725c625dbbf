//! Writing a minted bearer token to the file the user named with `--token-out`.
//!
//! The file is the only place a token ever goes besides Okta's API: it is created new (an
//! existing file, or a symbolic link planted at that path, is an error, never followed or
//! overwritten), with mode 0600 from the first byte, and the token is written once. `apply`
//! reserves the file ([`TokenFile::reserve`]) before its first write to any service, so a
//! missing directory or an existing file stops the run before anything changed; a reserved file
//! that never received a token is removed again. Errors name the path, never the token.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// Why the token could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error(
        "{path} already exists: scimbridge writes a token only to a new file (remove it or name another)"
    )]
    Exists { path: String },
    #[error("cannot create {path}: its directory does not exist")]
    NoDirectory { path: String },
    #[error("cannot create {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// A `--token-out` file created empty, mode 0600, waiting for the token.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    file: Option<File>,
}

impl TokenFile {
    /// Creates `path` new (it must not exist, not even as a dangling link), mode 0600.
    pub fn reserve(path: &Path) -> Result<Self, TokenFileError> {
        let file = create_new(path)?;
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the token and a newline; a file takes one token only.
    pub fn write(&mut self, token: &Secret) -> Result<(), TokenFileError> {
        let shown = self.path.display().to_string();
        let Some(mut file) = self.file.take() else {
            return Err(TokenFileError::Exists { path: shown });
        };
        file.write_all(token.expose().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(|source| TokenFileError::Write {
                path: shown,
                source,
            })
    }
}

impl Drop for TokenFile {
    /// A reservation that never received a token is removed, so the next run can use the path.
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates `path` (which must not exist, not even as a dangling link) with mode 0600 and writes
/// the token followed by a newline.
pub fn write_new(path: &Path, token: &Secret) -> Result<(), TokenFileError> {
    TokenFile::reserve(path)?.write(token)
}

fn create_new(path: &Path) -> Result<File, TokenFileError> {
    let shown = path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    // create_new is O_CREAT|O_EXCL: it fails on an existing file and on any symlink, dangling
    // or not, so nothing at that path is followed.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => TokenFileError::Exists { path: shown },
        std::io::ErrorKind::NotFound => TokenFileError::NoDirectory { path: shown },
        _ => TokenFileError::Create {
            path: shown,
            source,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_new_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_new(&path, &Secret::new("tok")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "tok\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn refuses_an_existing_file_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "old").unwrap();
        let err = write_new(&path, &Secret::new("tok")).unwrap_err();
        assert!(matches!(err, TokenFileError::Exists { .. }));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert!(!err.to_string().contains("tok\n"));
    }

    #[test]
    fn an_unused_reservation_is_removed_and_a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let reserved = TokenFile::reserve(&path).unwrap();
        assert!(path.exists());
        drop(reserved);
        assert!(!path.exists());
        let err = TokenFile::reserve(&dir.path().join("no/such/dir/token")).unwrap_err();
        assert!(matches!(err, TokenFileError::NoDirectory { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        let link = dir.path().join("token");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            write_new(&link, &Secret::new("tok")),
            Err(TokenFileError::Exists { .. })
        ));
        assert!(!target.exists(), "the link's target must not be created");
    }
}
