//! The shortest path through a real server: connect, write, read.

use redis_model::prelude::*;
use redis_model_tests::RedisServer;

#[tokio::test]
async fn set_then_get() {
    let server = RedisServer::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.set("k", "v").await.unwrap();
    assert_eq!(
        client.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
}
