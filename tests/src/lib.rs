//! Test support for redis-model: real Redis servers on free loopback ports.
//!
//! [`RedisServer`] starts `redis-server` (installed by `scripts/install-redis.sh` on first use)
//! in a temporary directory, waits until it accepts connections, and kills it when dropped —
//! when a test panics too. Ports are picked free at start, so tests run in parallel and need
//! no server beforehand. [`tls::Certificates`] makes a CA, server and client certificates at
//! run time; [`fake::FakeServer`] speaks deliberately broken RESP, for the tests of bad input.

pub mod cluster;
pub mod fake;
pub mod tls;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the server binaries and modules are, installing them on first call.
///
/// Set `REDIS_MODEL_SERVER_DIR` to use another installation folder.
pub fn server_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root");
        let out = Command::new("bash")
            .arg(root.join("scripts/install-redis.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/install-redis.sh");
        assert!(out.status.success(), "scripts/install-redis.sh failed");
        let dir = String::from_utf8(out.stdout).expect("install path is UTF-8");
        PathBuf::from(
            dir.lines()
                .last()
                .expect("install script prints its folder")
                .trim(),
        )
    })
}

/// Whether the installed server was built with TLS (the Redis Stack build is; the fallback
/// is not).
pub fn server_has_tls() -> bool {
    std::fs::read_to_string(server_dir().join(".flavor"))
        .map(|f| f.contains("tls=yes"))
        .unwrap_or(false)
}

/// A Redis Stack server (RediSearch and RedisJSON) and a client connected to it, for the
/// end-to-end suites.
pub async fn stack() -> (RedisServer, redis_model::Client) {
    let server = RedisServer::start_stack();
    let client = redis_model::Client::connect(&server.url())
        .await
        .expect("connect to the server just started");
    (server, client)
}

/// Redis modules the server can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// RediSearch (`FT.*`).
    Search,
    /// RedisJSON (`JSON.*`).
    Json,
    /// RedisBloom.
    Bloom,
}

impl Module {
    fn file(self) -> &'static str {
        match self {
            Module::Search => "redisearch.so",
            Module::Json => "rejson.so",
            Module::Bloom => "redisbloom.so",
        }
    }
}

/// How to start a server.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    modules: Vec<Module>,
    password: Option<String>,
    config_lines: Vec<String>,
    tls: Option<tls::ServerTls>,
    unix_socket: bool,
}

impl ServerOptions {
    /// Loads a module.
    pub fn module(mut self, m: Module) -> Self {
        self.modules.push(m);
        self
    }

    /// RediSearch and RedisJSON, as Redis Stack has them.
    pub fn stack(self) -> Self {
        self.module(Module::Search).module(Module::Json)
    }

    /// Requires this password for the default user.
    pub fn password(mut self, p: &str) -> Self {
        self.password = Some(p.to_owned());
        self
    }

    /// Adds a line to the server's configuration file (`rename-command HELLO ""`, `user …`).
    pub fn config(mut self, line: &str) -> Self {
        self.config_lines.push(line.to_owned());
        self
    }

    /// Serves TLS only, with these certificates.
    pub fn tls(mut self, tls: tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Also listens on a Unix socket in the server's directory.
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }

    /// Starts the server.
    pub fn start(self) -> RedisServer {
        RedisServer::start_with(self)
    }
}

/// A running `redis-server`, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    tls: bool,
    unix_socket: Option<PathBuf>,
}

impl RedisServer {
    /// A plain server with no modules.
    pub fn start() -> Self {
        ServerOptions::default().start()
    }

    /// A server with RediSearch and RedisJSON.
    pub fn start_stack() -> Self {
        ServerOptions::default().stack().start()
    }

    fn start_with(options: ServerOptions) -> Self {
        Self::start_retrying(|| options.clone())
    }

    /// Starts a server from options made afresh for each try, so that options naming a port
    /// of their own (a cluster bus port) can pick another when a try loses it.
    pub(crate) fn start_retrying(options: impl Fn() -> ServerOptions) -> Self {
        // A port found free can be taken before the server binds it: try a few times.
        let mut last_log = String::new();
        for _ in 0..5 {
            match Self::try_start(&options()) {
                Ok(server) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("redis-server did not start:\n{last_log}");
    }

    fn try_start(options: &ServerOptions) -> Result<Self, String> {
        let bin = server_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut conf = vec![
            "bind 127.0.0.1".to_owned(),
            "save \"\"".to_owned(),
            "appendonly no".to_owned(),
            format!("dir {}", dir.path().display()),
            "daemonize no".to_owned(),
            "enable-debug-command yes".to_owned(),
        ];
        match &options.tls {
            Some(tls) => {
                conf.push("port 0".into());
                conf.push(format!("tls-port {port}"));
                conf.extend(tls.config_lines());
            }
            None => conf.push(format!("port {port}")),
        }
        let unix_socket = options.unix_socket.then(|| dir.path().join("redis.sock"));
        if let Some(sock) = &unix_socket {
            conf.push(format!("unixsocket {}", sock.display()));
            conf.push("unixsocketperm 700".into());
        }
        if let Some(p) = &options.password {
            conf.push(format!("requirepass {p}"));
        }
        for m in &options.modules {
            conf.push(format!(
                "loadmodule {}",
                bin.join("modules").join(m.file()).display()
            ));
        }
        conf.extend(options.config_lines.iter().cloned());
        let conf_path = dir.path().join("redis.conf");
        std::fs::write(&conf_path, conf.join("\n") + "\n").expect("write redis.conf");
        let log_path = dir.path().join("redis.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(bin.join("bin/redis-server"))
            .arg(&conf_path)
            .env("LD_LIBRARY_PATH", bin.join("lib"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn redis-server");
        let mut server = RedisServer {
            child,
            port,
            dir,
            tls: options.tls.is_some(),
            unix_socket,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains("Ready to accept connections") {
                return Ok(server);
            }
            if let Ok(Some(_)) = server.child.try_wait() {
                return Err(text);
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after 20 s:\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (the TLS port for a TLS server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL: `redis://127.0.0.1:PORT` or `rediss://…` for TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The Unix socket, when started with [`ServerOptions::unix_socket`].
    pub fn unix_socket(&self) -> Option<&Path> {
        self.unix_socket.as_deref()
    }

    /// Its working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines of its log, for a failing test to show.
    pub fn log(&self) -> Vec<String> {
        std::fs::File::open(self.dir.path().join("redis.log"))
            .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
            .unwrap_or_default()
    }

    /// Runs `redis-cli` against it with `args` and returns its output (plain servers only).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = redis_cli()
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The installed `redis-cli`, with the libraries it links against on its path.
pub(crate) fn redis_cli() -> Command {
    let bin = server_dir();
    let mut cli = Command::new(bin.join("bin/redis-cli"));
    cli.env("LD_LIBRARY_PATH", bin.join("lib"));
    cli
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}
