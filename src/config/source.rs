//! The one bounded reader for text the config brings in: the config file itself and every
//! `${file:…}` reference.
//!
//! Whatever path a user (or an attacker who controls a config in a pull request) names, reading
//! it must end quickly and cost at most a stated amount of memory. So [`read_text`] opens without
//! blocking (a FIFO would otherwise wait forever for a writer), checks on the opened file, not on
//! the path, that it is a regular file (a FIFO, device, directory or socket is refused by name),
//! refuses a file whose size exceeds the limit before reading a byte, and then reads at most
//! `limit + 1` bytes, so a file that grows under us is caught too. Text must be UTF-8; the first
//! bad byte is reported with its line and column.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest config file read: 8 MiB. The 10,000-user benchmark config (`benches/validate.rs`)
/// is about 300 KiB, so this leaves more than twenty times that room, while the tree built from
/// it stays under 200 MB at the YAML node limits (`config::yaml`, `benches/hostile_input.rs`).
pub const CONFIG_LIMIT: u64 = 8 * 1024 * 1024;

/// The largest file a `${file:…}` reference may name: 64 KiB. A referenced value is a token, a
/// client secret, an id or a URL, a few hundred bytes at most; 64 KiB still takes a PEM-sized
/// value, and stops a wrong path (a log, an image, a disk) before it costs memory.
pub const FILE_REFERENCE_LIMIT: u64 = 64 * 1024;

/// Why a file was not read. The variants other than [`ReadError::Io`] are about what the path
/// names, not about the machine: callers report them as diagnostics ([`ReadError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read (missing, no permission…).
    #[error("{0}")]
    Io(std::io::Error),
    /// Not a regular file: `kind` names what it is ("a FIFO", "a directory"…).
    #[error("is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    /// Larger than `limit` bytes, by its size or by what could be read.
    #[error("is larger than the {what} limit of {}", show_bytes(*.limit))]
    TooLarge { what: &'static str, limit: u64 },
    /// Not UTF-8: the first bad byte's 1-based line and column (in characters).
    #[error("is not UTF-8 text: invalid byte at line {line}, column {column}")]
    NotUtf8 { line: usize, column: usize },
}

impl ReadError {
    /// A stable, kebab-case name for diagnostics.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Io(_) => "unreadable",
            ReadError::NotRegular { .. } => "not-regular-file",
            ReadError::TooLarge { .. } => "too-large",
            ReadError::NotUtf8 { .. } => "not-utf8",
        }
    }
}

/// `8 MiB`, `64 KiB`, or a byte count.
fn show_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b.is_multiple_of(1024 * 1024) => format!("{} MiB", b >> 20),
        b if b >= 1024 && b.is_multiple_of(1024) => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Reads the UTF-8 text of the regular file at `path`, at most `limit` bytes; `what` names the
/// limit in the error ("config file", "`${file:}` reference").
pub fn read_text(path: &Path, limit: u64, what: &'static str) -> Result<String, ReadError> {
    let file = open_nonblocking(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            kind: file_kind(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { what, limit });
    }
    // The size can change between the check and the read; never read past limit + 1.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { what, limit });
    }
    String::from_utf8(bytes).map_err(|err| {
        let good = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let good = std::str::from_utf8(good).expect("valid up to here");
        let line_start = good.rfind('\n').map_or(0, |i| i + 1);
        ReadError::NotUtf8 {
            line: good.matches('\n').count() + 1,
            column: good[line_start..].chars().count() + 1,
        }
    })
}

/// Opens for reading without waiting: on unix `O_NONBLOCK`, so opening a FIFO with no writer
/// returns at once and the type check below refuses it. (A regular file ignores the flag.)
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a non-regular file is, in words.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_utf8_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "ok\n").unwrap();
        assert_eq!(read_text(&path, 3, "test").unwrap(), "ok\n");
        assert!(matches!(
            read_text(&path, 2, "test"),
            Err(ReadError::TooLarge {
                what: "test",
                limit: 2
            })
        ));
        std::fs::write(&path, b"a\nb\xc3\xa9c\xff").unwrap();
        assert!(matches!(
            read_text(&path, 100, "test"),
            Err(ReadError::NotUtf8 { line: 2, column: 4 })
        ));
        assert!(matches!(
            read_text(dir.path(), 100, "test"),
            Err(ReadError::NotRegular {
                kind: "a directory"
            })
        ));
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 100, "test"),
            Err(ReadError::NotRegular {
                kind: "a character device"
            })
        ));
        assert!(matches!(
            read_text(&dir.path().join("missing"), 100, "test"),
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn names_limits_in_units() {
        assert_eq!(show_bytes(CONFIG_LIMIT), "8 MiB");
        assert_eq!(show_bytes(FILE_REFERENCE_LIMIT), "64 KiB");
        assert_eq!(show_bytes(100), "100 bytes");
    }
}
