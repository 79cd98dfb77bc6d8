//! The cluster test support: a Redis Stack cluster starts whole, and leaves nothing running.

use std::net::TcpStream;

use redis_model_tests::cluster::RedisCluster;

#[test]
fn stack_cluster_starts_whole_and_stops_on_drop() {
    let cluster = RedisCluster::start_stack();
    let ports = cluster.ports();
    assert_eq!(ports.len(), 6);
    let masters = cluster.master_ports();
    assert_eq!(masters.len(), 3, "masters: {masters:?}");
    assert_eq!(cluster.replica_ports().len(), 3);
    let seeds: Vec<String> = masters.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    assert_eq!(
        cluster.url(),
        format!("redis+cluster://{}", seeds.join(","))
    );

    for &port in &ports {
        let info = cluster.cli(port, &["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_state:ok"), "{port}: {info}");
        assert!(
            info.contains("cluster_slots_assigned:16384"),
            "{port}: {info}"
        );
        let modules = cluster.cli(port, &["MODULE", "LIST"]);
        assert!(modules.contains("search"), "{port}: {modules}");
        assert!(modules.contains("ReJSON"), "{port}: {modules}");
    }
    let indexes = cluster.cli(masters[0], &["FT._LIST"]);
    assert!(!indexes.contains("ERR"), "FT._LIST: {indexes}");

    drop(cluster);
    for port in ports {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open after drop"
        );
    }
}
