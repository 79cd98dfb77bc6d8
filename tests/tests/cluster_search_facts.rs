//! What RediSearch does on an open-source Redis Cluster (no coordinator), pinned with raw
//! commands: the cluster search fan-out is built around it.

use redis_model_tests::cluster::RedisCluster;

/// The master serving `key`'s slot: the one that does not redirect a read of it.
fn owner(cluster: &RedisCluster, key: &str) -> u16 {
    cluster
        .master_ports()
        .into_iter()
        .find(|&p| !cluster.cli(p, &["GET", key]).starts_with("MOVED"))
        .expect("a master serves the slot")
}

fn lines(out: &str) -> Vec<&str> {
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn an_index_reads_only_documents_in_its_own_slot() {
    let cluster = RedisCluster::start_stack();
    // An index named with the tag {a}, so living on that slot's master; one document in the
    // tag's slot and one in another slot of the same master.
    let node = owner(&cluster, "{a}doc:1");
    let other = (0..10_000)
        .map(|i| format!("doc:{i}"))
        .find(|k| owner(&cluster, k) == node)
        .expect("a key on the same master");
    let create = [
        "FT.CREATE",
        "idx{a}",
        "ON",
        "HASH",
        "PREFIX",
        "2",
        "doc:",
        "{a}doc:",
        "SCHEMA",
        "n",
        "NUMERIC",
        "SORTABLE",
        "s",
        "TAG",
    ];
    assert_eq!(cluster.cli(node, &create).trim(), "OK");
    cluster.cli(node, &["HSET", "{a}doc:1", "n", "1", "s", "x"]);
    cluster.cli(node, &["HSET", &other, "n", "2", "s", "y"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Both are indexed, and found with their sort keys...
    let keys = cluster.cli(
        node,
        &[
            "FT.SEARCH",
            "idx{a}",
            "*",
            "SORTBY",
            "n",
            "ASC",
            "WITHSORTKEYS",
            "NOCONTENT",
        ],
    );
    assert_eq!(lines(&keys), ["2", "{a}doc:1", "#1", other.as_str(), "#2"]);
    // ...but only the document in the index's slot is read: the other comes back without its
    // fields (a sortable field's value comes from the index, so `s`, which is not, shows it).
    let mine = cluster.cli(
        node,
        &["FT.SEARCH", "idx{a}", "@n:[1 1]", "RETURN", "1", "s"],
    );
    assert_eq!(lines(&mine), ["1", "{a}doc:1", "s", "x"]);
    let theirs = cluster.cli(
        node,
        &["FT.SEARCH", "idx{a}", "@n:[2 2]", "RETURN", "1", "s"],
    );
    assert_eq!(lines(&theirs), ["1", other.as_str()]);
    // An aggregation cannot load its key either.
    let loaded = cluster.cli(
        node,
        &["FT.AGGREGATE", "idx{a}", "@n:[2 2]", "LOAD", "1", "@__key"],
    );
    assert_eq!(lines(&loaded), ["1"]);
}
