//! Benchmark: `scimbridge validate` on hostile input, and `scimbridge plan` against a hostile
//! server answering 2 GiB bodies (issue 17), the release binary as a user runs it. Not a test:
//! run with `cargo bench --bench hostile_input`. For each input it prints the wall time and the
//! child's peak resident memory (`wait4`'s `ru_maxrss`) against the goal: each ends within 2 s
//! and under 200 MB. A run still going after 20 s is killed and reported.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOAL_TIME: Duration = Duration::from_secs(2);
const GOAL_KIB: i64 = 200 * 1024;
const WATCHDOG: Duration = Duration::from_secs(20);

/// Puts a token file at the path.
type MakeToken = fn(&Path);

/// Runs `scimbridge <command> -c config` in `dir`; its exit code, wall time and peak RSS in KiB.
fn measure(dir: &Path, command: &str, config: &str) -> (Option<i32>, Duration, i64) {
    let started = Instant::now();
    // Reaped by wait4 below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args([command, "-c", config])
        .current_dir(dir)
        .env_clear()
        .env("WS1_CLIENT_SECRET", "hostile-admin-secret")
        .env("WS1_SCIM_CLIENT_SECRET", "hostile-scim-secret")
        .env("OKTA_API_TOKEN", "00hostile-okta-token")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter; pid is our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            return (code, started.elapsed(), usage.ru_maxrss);
        }
        if started.elapsed() > WATCHDOG {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn main() {
    // A valid config whose Okta API token is `${file:token}`.
    let base = common::CONFIG_HEAD.replace("${env:OKTA_API_TOKEN}", "${file:token}");
    let base = base.as_str();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &[u8]| std::fs::write(d.join(name), text).unwrap();
    let mkfifo = |name: &str| {
        assert!(
            Command::new("mkfifo")
                .arg(d.join(name))
                .status()
                .unwrap()
                .success()
        );
    };

    let mut bomb =
        format!("{base}lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let alias = format!("*lol{}", i - 1);
        writeln!(bomb, "lol{i}: &lol{i} [{}]", vec![alias; 10].join(", ")).unwrap();
    }
    write("alias-bomb.yaml", bomb.as_bytes());
    write(
        "deep-block.yaml",
        format!("{base}deep:\n{}\n", "- ".repeat(1_000_000)).as_bytes(),
    );
    write(
        "deep-flow.yaml",
        format!("{base}deep: {}\n", "[".repeat(1_000_000)).as_bytes(),
    );
    // Large inputs are streamed to their files: a spawned child's peak RSS starts from this
    // process's (the kernel keeps the larger across exec), so this process stays small.
    let stream = |name: &str, head: &str, chunk: &str, total: usize, tail: &str| {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(std::fs::File::create(d.join(name)).unwrap());
        out.write_all(head.as_bytes()).unwrap();
        for _ in 0..(total - head.len() - tail.len()) / chunk.len() {
            out.write_all(chunk.as_bytes()).unwrap();
        }
        out.write_all(tail.as_bytes()).unwrap();
    };
    // Many small nodes, just under the size limit: the most work an accepted-size file asks.
    stream(
        "many-nodes-8mib.yaml",
        &format!("{base}many: ["),
        "1,",
        8 << 20,
        "1]\n",
    );
    // Just under the node limit: the whole tree is built and converted.
    let under = format!("{base}many: [{}1]\n", "1,".repeat(499_000));
    write("under-node-limit.yaml", under.as_bytes());
    drop(under);
    let comment = format!("# {}\n", "x".repeat(1021));
    stream("config-50mb.yaml", base, &comment, 50 << 20, "");
    let mut utf8 = base.as_bytes().to_vec();
    utf8.extend_from_slice(b"label2: \xff\n");
    write("not-utf8.yaml", &utf8);
    mkfifo("fifo.yaml");

    let token_cases: [(&str, MakeToken); 6] = [
        ("${file:} FIFO", |p| {
            assert!(Command::new("mkfifo").arg(p).status().unwrap().success())
        }),
        ("${file:} /dev/zero", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
        ("${file:} sparse 2 GiB", |p| {
            std::fs::File::create(p).unwrap().set_len(2 << 30).unwrap()
        }),
        ("${file:} sparse 300 MB", |p| {
            std::fs::File::create(p)
                .unwrap()
                .set_len(300_000_000)
                .unwrap()
        }),
        ("${file:} empty", |p| std::fs::write(p, "").unwrap()),
        ("${file:} valid token", |p| {
            std::fs::write(p, "00token").unwrap()
        }),
    ];

    println!(
        "goal: each ends within {GOAL_TIME:?} and under {} MB",
        GOAL_KIB / 1024
    );
    let report_on = |dir: &Path, name: &str, command: &str, config: &str| {
        let (code, time, kib) = measure(dir, command, config);
        let ok = time <= GOAL_TIME && kib <= GOAL_KIB && code.is_some();
        println!(
            "{:<28} exit {:>4}  {:>8.1} ms  {:>7.1} MB  {}",
            name,
            code.map_or("kill".into(), |c| c.to_string()),
            time.as_secs_f64() * 1e3,
            kib as f64 / 1024.0,
            if ok { "ok" } else { "OVER GOAL" }
        );
    };
    let report = |name: &str, config: &str| report_on(d, name, "validate", config);
    for (name, file) in [
        ("alias bomb", "alias-bomb.yaml"),
        ("deep nesting (block)", "deep-block.yaml"),
        ("deep nesting (flow)", "deep-flow.yaml"),
        ("8 MiB of small nodes", "many-nodes-8mib.yaml"),
        ("just under the node limit", "under-node-limit.yaml"),
        ("50 MB config", "config-50mb.yaml"),
        ("invalid UTF-8", "not-utf8.yaml"),
        ("-c FIFO", "fifo.yaml"),
        ("-c /dev/zero", "/dev/zero"),
    ] {
        report(name, file);
    }
    write("config.yaml", base.as_bytes());
    for (name, make) in token_cases {
        let token = d.join("token");
        let _ = std::fs::remove_file(&token);
        make(&token);
        report(name, "config.yaml");
    }
    // Both services at one hostile server that answers every request with a huge body.
    for (name, mode) in [
        ("plan: 2 GiB Content-Length", Body::Declared),
        ("plan: endless chunked body", Body::Chunked),
    ] {
        let port = hostile_server(mode);
        let url = format!("http://127.0.0.1:{port}");
        let config = base
            .replace("https://acme.vmwareidentity.com", &url)
            .replace("https://acme.okta.com", &url)
            .replace("${file:token}", "${env:OKTA_API_TOKEN}");
        write("server.yaml", config.as_bytes());
        report_on(d, name, "plan", "server.yaml");
    }
}

/// How the hostile server sends its body.
#[derive(Clone, Copy)]
enum Body {
    /// `Content-Length: 2147483648`, then bytes until the client hangs up.
    Declared,
    /// Chunked, never ending.
    Chunked,
}

/// A loopback server answering every request `200` with a body that never ends (in practice);
/// returns its port.
fn hostile_server(body: Body) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut out = stream;
                let head = match body {
                    Body::Declared => {
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
                    }
                    Body::Chunked => {
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    }
                };
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = out.write_all(head.as_bytes());
                while sent.is_ok() {
                    sent = match body {
                        Body::Declared => out.write_all(&chunk),
                        Body::Chunked => out
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .and_then(|()| out.write_all(&chunk))
                            .and_then(|()| out.write_all(b"\r\n")),
                    };
                }
            });
        }
    });
    port
}
