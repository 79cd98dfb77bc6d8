//! Multi-key commands over many cluster slots (`MGET`, `MSET`, `DEL`, `EXISTS`, `UNLINK`,
//! `TOUCH`): split per slot and merged on a cluster, answered exactly as one server answers;
//! sent as one command to one server.

use redis_model::prelude::*;
use redis_model_tests::cluster::RedisCluster;
use redis_model_tests::RedisServer;

/// How many times the node on `port` ran `command`, from `INFO commandstats`.
fn calls(info: &str, command: &str) -> u64 {
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| {
            rest.split(',').next().unwrap().parse().expect("a count")
        })
}

/// 100 keys spread over every slot range (no hash tags).
fn keys() -> Vec<String> {
    (0..100).map(|i| format!("mk:{i}")).collect()
}

/// The same multi-key commands, whatever the topology; what the caller saw of each.
async fn multi_key_commands(client: &Client) -> Vec<String> {
    let keys = keys();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v{k}"))).collect();
    client.mset(&pairs).await.unwrap();
    let mut seen = Vec::new();

    // Values come back in the caller's order, a missing key as nil in its place.
    let mut asked = keys.clone();
    asked.insert(37, "mk:missing".to_owned());
    let values: Vec<Option<String>> = client.mget(&asked).await.unwrap();
    assert_eq!(values.len(), 101);
    assert_eq!(values[37], None);
    for (key, value) in asked.iter().zip(&values) {
        if key != "mk:missing" {
            assert_eq!(value.as_deref(), Some(format!("v{key}").as_str()), "{key}");
        }
    }
    seen.push(format!("MGET {values:?}"));

    // Counts are summed; a key named twice counts twice for EXISTS and TOUCH, once for DEL.
    let mut twice = keys[..10].to_vec();
    twice.extend(keys[..10].iter().cloned());
    twice.push("mk:missing".to_owned());
    let exists = client.exists(&twice).await.unwrap();
    assert_eq!(exists, 20);
    seen.push(format!("EXISTS {exists}"));
    let touched: u64 = client.send(cmd("TOUCH").key(&twice)).await.unwrap();
    assert_eq!(touched, 20);
    seen.push(format!("TOUCH {touched}"));
    let unlinked: u64 = client.send(cmd("UNLINK").key(&keys[..50])).await.unwrap();
    assert_eq!(unlinked, 50);
    seen.push(format!("UNLINK {unlinked}"));
    let deleted = client.del(&keys).await.unwrap();
    assert_eq!(deleted, 50, "the other half was unlinked");
    seen.push(format!("DEL {deleted}"));
    assert_eq!(client.exists(&keys).await.unwrap(), 0);

    // Inside a pipeline, in order with the commands around them.
    let p = pipe()
        .cmd(cmd("MSET").key("mk:a").arg(1).key("mk:b").arg(2))
        .cmd(cmd("GET").key("mk:a"))
        .cmd(cmd("MGET").key(["mk:b", "mk:c", "mk:a"]))
        .cmd(cmd("DEL").key(["mk:a", "mk:b", "mk:c"]))
        .cmd(cmd("EXISTS").key(["mk:a", "mk:b"]));
    let replies: Vec<Value> = client
        .pipeline(p)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let get: Option<String> = FromRedis::from_redis(replies[1].clone()).unwrap();
    let mget: Vec<Option<String>> = FromRedis::from_redis(replies[2].clone()).unwrap();
    let del: u64 = FromRedis::from_redis(replies[3].clone()).unwrap();
    let exists: u64 = FromRedis::from_redis(replies[4].clone()).unwrap();
    assert_eq!(get.as_deref(), Some("1"));
    assert_eq!(mget, [Some("2".to_owned()), None, Some("1".to_owned())]);
    assert_eq!((del, exists), (2, 0));
    seen.push(format!("pipeline {get:?} {mget:?} {del} {exists}"));
    seen
}

#[tokio::test]
async fn multi_key_commands_answer_as_one_server_does() {
    let cluster = RedisCluster::start_stack();
    let server = RedisServer::start();
    let on_cluster = Client::connect(&cluster.url()).await.unwrap();
    let on_server = Client::connect(&server.url()).await.unwrap();
    assert_eq!(
        multi_key_commands(&on_cluster).await,
        multi_key_commands(&on_server).await
    );

    // One server ran each command once, whole.
    let stats = server.cli(&["INFO", "commandstats"]);
    for (command, times) in [
        ("mset", 2),
        ("mget", 2),
        ("exists", 3),
        ("touch", 1),
        ("unlink", 1),
        ("del", 2),
    ] {
        assert_eq!(calls(&stats, command), times, "{command} on one server");
    }

    // The cluster ran one MGET per slot of the first one's keys (the missing key among them),
    // the second's three, spread over every master, and no master was ever asked for a slot it
    // does not serve.
    let masters = cluster.master_ports();
    let mut slots: Vec<String> = keys()
        .iter()
        .chain([&"mk:missing".to_owned()])
        .map(|k| cluster.cli(masters[0], &["CLUSTER", "KEYSLOT", k]))
        .collect();
    slots.sort_unstable();
    slots.dedup();
    let mut mgets = 0;
    for &port in &masters {
        let stats = cluster.cli(port, &["INFO", "commandstats"]);
        assert!(calls(&stats, "mget") > 0, "no MGET on master {port}");
        mgets += calls(&stats, "mget");
        let errors = cluster.cli(port, &["INFO", "errorstats"]);
        assert!(!errors.contains("errorstat_MOVED"), "{port}: {errors}");
        assert!(!errors.contains("errorstat_CROSSSLOT"), "{port}: {errors}");
    }
    assert_eq!(mgets, slots.len() as u64 + 3);
}

#[derive(RedisModel, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[redis(prefix = "item")]
pub struct Item {
    #[redis(id)]
    pub id: String,
    #[redis(numeric)]
    pub n: i64,
}

#[tokio::test]
async fn delete_all_removes_documents_from_every_master() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let items = client.repository::<Item>();
    let all: Vec<Item> = (0..300)
        .map(|n| Item {
            id: format!("i{n}"),
            n,
        })
        .collect();
    let ids = items.save_all(&all).await.unwrap();
    for port in cluster.master_ports() {
        let size: u64 = cluster.cli(port, &["DBSIZE"]).trim().parse().unwrap();
        assert!(size > 50, "master {port} holds {size} documents");
    }
    let mut gone = ids[..200].to_vec();
    gone.push("never-saved".to_owned());
    assert_eq!(items.delete_all(&gone).await.unwrap(), 200);
    let left = items.get_many(&ids).await.unwrap();
    assert!(left[..200].iter().all(Option::is_none));
    assert_eq!(left[200..].iter().flatten().count(), 100);
    assert_eq!(items.delete_all(&ids).await.unwrap(), 100);
    for port in cluster.master_ports() {
        assert_eq!(cluster.cli(port, &["DBSIZE"]).trim(), "0", "master {port}");
    }
}

#[tokio::test]
async fn other_commands_over_several_slots_are_still_refused() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let script = Script::new("return redis.call('GET', KEYS[1])");
    let refused: Result<Option<String>> = script.invoke(&client, &["foo", "bar"], &[""; 0]).await;
    assert!(
        matches!(refused, Err(Error::CrossSlot { .. })),
        "{refused:?}"
    );
    // In a pipeline too, before anything of it is sent.
    let p = pipe()
        .cmd(cmd("SET").key("mk:sent?").arg(1))
        .cmd(cmd("SINTERSTORE").key(["foo", "bar"]));
    match client.pipeline(p).await {
        Err(Error::CrossSlot { command, slots }) => {
            assert_eq!(
                (command.as_str(), slots),
                ("SINTERSTORE", vec![12182, 5061])
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.exists(&["mk:sent?"]).await.unwrap(), 0);
    // An atomic pipeline of one multi-key command over several slots is not split.
    let tx = pipe().atomic().cmd(cmd("MGET").key(["foo", "bar"]));
    assert!(matches!(
        client.pipeline(tx).await,
        Err(Error::CrossSlot { command, .. }) if command == "MGET"
    ));
}
