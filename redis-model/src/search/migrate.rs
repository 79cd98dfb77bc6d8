//! Index migrations without downtime.
//!
//! A model's index name is an *alias*. The index behind it is named after a fingerprint of the
//! schema (`{alias}-{fingerprint}`), so an index whose schema no longer matches the model's
//! attributes is recognised by its name. [`migrate`] then builds the new index beside the old
//! one, waits until it has indexed every document, moves the alias to it (`FT.ALIASUPDATE`) and
//! drops the old index — its definition only, never the documents. Queries go through the alias
//! and are answered by the old index until the switch.
//!
//! Two processes migrating at once are serialised by a lock key; the second finds the work done.

use std::time::{Duration, Instant};

use crate::client::Client;
use crate::commands::{cmd, Commands, Script, StringCommands};
use crate::error::{Error, Result};
use crate::model::{ModelMeta, Ulid};
use crate::resp::{FromRedis, Value};
use crate::search::schema::{create_index, fingerprint};

/// What [`Repository::migrate`](crate::Repository::migrate) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Migration {
    /// The index was missing and has been created.
    Created {
        /// The versioned index now behind the alias.
        index: String,
    },
    /// The schema changed: a new index replaced the old one.
    Rebuilt {
        /// The index dropped (its documents kept).
        from: String,
        /// The index now behind the alias.
        to: String,
    },
    /// The index already matched the model.
    UpToDate {
        /// The index behind the alias.
        index: String,
    },
}

/// How long a migration may hold its lock before another process may take over (a crashed
/// migrator must not block the next one forever).
const LOCK_TTL: Duration = Duration::from_secs(120);
/// How long to wait for another process's migration, or for indexing to finish.
const WAIT_LIMIT: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(50);

pub(crate) async fn migrate(
    client: &Client,
    alias: &str,
    key_prefix: &str,
    meta: &ModelMeta,
) -> Result<Migration> {
    let target = format!("{alias}-{}", fingerprint(key_prefix, meta));
    let lock = Lock::acquire(client, &format!("{alias}:migration-lock")).await?;
    let outcome = run(client, alias, key_prefix, meta, &target).await;
    lock.release(client).await?;
    outcome
}

async fn run(
    client: &Client,
    alias: &str,
    key_prefix: &str,
    meta: &ModelMeta,
    target: &str,
) -> Result<Migration> {
    let current = index_behind(client, alias).await?;
    if current.as_deref() == Some(target) {
        return Ok(Migration::UpToDate {
            index: target.to_owned(),
        });
    }
    // A migration that died after creating the index left it behind: reuse it.
    match client
        .send::<()>(create_index(target, key_prefix, meta))
        .await
    {
        Err(Error::Server { message, .. }) if message.contains("already exists") => {}
        other => other?,
    }
    wait_indexed(client, target).await?;
    match current {
        None => {
            client
                .send::<()>(cmd("FT.ALIASADD").key(alias).key(target))
                .await?;
            Ok(Migration::Created {
                index: target.to_owned(),
            })
        }
        Some(old) => {
            if old == alias {
                // An index made before aliases were used holds the alias's name: it has to go
                // before the alias can take that name.
                client.send::<()>(cmd("FT.DROPINDEX").key(&old)).await?;
                client
                    .send::<()>(cmd("FT.ALIASADD").key(alias).key(target))
                    .await?;
            } else {
                client
                    .send::<()>(cmd("FT.ALIASUPDATE").key(alias).key(target))
                    .await?;
                // Without `DD`: the documents stay, only the old index's definition goes.
                client.send::<()>(cmd("FT.DROPINDEX").key(&old)).await?;
            }
            Ok(Migration::Rebuilt {
                from: old,
                to: target.to_owned(),
            })
        }
    }
}

/// The index an alias (or an index of that name) resolves to; `None` when neither exists.
pub(crate) async fn index_behind(client: &Client, name: &str) -> Result<Option<String>> {
    match client.send::<Value>(cmd("FT.INFO").key(name)).await {
        Ok(info) => Ok(Some(String::from_redis(info_field(info, "index_name")?)?)),
        // "Unknown index name" (or "Unknown Index name"), "no such index" in other versions.
        Err(Error::Server { code, message, .. })
            if is_missing_index(&format!("{code} {message}")) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn is_missing_index(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    line.contains("unknown index") || line.contains("no such index")
}

fn info_field(info: Value, name: &str) -> Result<Value> {
    crate::resp::take_field(&mut crate::resp::pairs(info)?, name)
        .ok_or_else(|| Error::protocol(format!("FT.INFO reply has no `{name}`")))
}

/// Waits until the index has indexed every document under its prefix: an index created over
/// existing keys fills in the background.
async fn wait_indexed(client: &Client, index: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        let info = crate::resp::pairs(client.send::<Value>(cmd("FT.INFO").key(index)).await?)?;
        let get = |name: &str| {
            info.iter()
                .find(|(k, _)| k.as_bytes().is_some_and(|k| k.as_ref() == name.as_bytes()))
                .map(|(_, v)| f64::from_redis(v.clone()))
                .transpose()
        };
        let indexing = get("indexing")?.unwrap_or(0.0);
        let percent = get("percent_indexed")?.unwrap_or(1.0);
        if indexing == 0.0 && percent >= 1.0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::Timeout {
                command: "FT.INFO (waiting for indexing)".into(),
                after: WAIT_LIMIT,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A lock key with a random token, released only by its holder.
struct Lock {
    key: String,
    token: String,
}

impl Lock {
    async fn acquire(client: &Client, key: &str) -> Result<Self> {
        let token = Ulid::new().to_string();
        let deadline = Instant::now() + WAIT_LIMIT;
        let opts = crate::commands::SetOptions::new()
            .expire(LOCK_TTL)
            .only_if_absent();
        loop {
            let taken: Option<()> = client.set_with(key, &token, opts).await?;
            if taken.is_some() {
                return Ok(Lock {
                    key: key.to_owned(),
                    token,
                });
            }
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    command: "migration lock".into(),
                    after: WAIT_LIMIT,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn release(self, client: &Client) -> Result<()> {
        let release = Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        );
        release
            .invoke::<(), _, _, _>(client, &[&self.key], &[&self.token])
            .await
    }
}
