//! The quickstart: a typed model, end to end.
//!
//! ```text
//! cargo run -p redis-model-examples --example quickstart
//! ```
//!
//! With `REDIS_URL` set it uses that server (it needs RediSearch and RedisJSON, as Redis Stack
//! has them). Without it, it installs Redis Stack into the project's `.redis/` folder if it is
//! not there yet and starts one on a free loopback port for the length of the run.

use redis_model::prelude::*;
use redis_model::search::Migration;
use redis_model_tests::RedisServer;
use serde::{Deserialize, Serialize};

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "user", storage = "json", index = "user-idx")]
pub struct User {
    #[redis(id)]
    pub id: String,
    #[redis(text, sortable)]
    pub name: String,
    #[redis(tag)]
    pub city: String,
    #[redis(numeric, sortable)]
    pub age: u32,
    #[redis(tag)]
    pub skills: Vec<String>,
    #[redis(geo)]
    pub home: GeoPoint,
    #[redis(vector(dim = 4, distance = "cosine", algorithm = "hnsw"))]
    pub embedding: Vec<f32>,
    pub bio: Option<String>,
}

fn person(name: &str, city: &str, age: u32, skills: &[&str], embedding: [f32; 4]) -> User {
    User {
        id: String::new(), // empty: a ULID is generated on save
        name: name.into(),
        city: city.into(),
        age,
        skills: skills.iter().map(|s| s.to_string()).collect(),
        home: GeoPoint::new(2.35, 48.85),
        embedding: embedding.to_vec(),
        bio: None,
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // Kept alive until the end of `main`: dropping it stops the embedded server.
    let (url, _embedded) = match std::env::var("REDIS_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            println!("REDIS_URL is not set: starting an embedded Redis Stack");
            let server = RedisServer::start_stack();
            (server.url(), Some(server))
        }
    };

    let client = Client::connect(&url).await?;
    let users: Repository<User> = client.repository::<User>();
    match users.migrate().await? {
        Migration::Created { index } => println!("created index {index}"),
        Migration::Rebuilt { from, to } => println!("rebuilt index {from} -> {to}"),
        Migration::UpToDate { index } => println!("index {index} is up to date"),
    }

    let alice = person(
        "Alice Martin",
        "Paris",
        34,
        &["rust", "go"],
        [0.1, 0.2, 0.3, 0.4],
    );
    let id = users.save(&alice).await?;
    println!("saved Alice as user:{id}");
    users
        .save_all(&[
            person("Bob Stone", "Paris", 17, &["cobol"], [0.9, 0.1, 0.0, 0.0]),
            person(
                "Carol Beaches",
                "New York",
                52,
                &["rust"],
                [0.0, 1.0, 0.0, 0.0],
            ),
            person(
                "Eve Adams",
                "Paris",
                40,
                &["rust", "cobol"],
                [0.1, 0.2, 0.3, 0.5],
            ),
        ])
        .await?;

    let back: Option<User> = users.get(&id).await?;
    assert_eq!(back.as_ref().map(|u| u.name.as_str()), Some("Alice Martin"));
    println!("read back: {:?}", back.map(|u| (u.name, u.city, u.age)));

    let f = User::fields();
    let adults = users
        .find(f.age.between(18, 65) & f.city.eq("Paris") & !f.skills.any_of(["cobol"]))
        .sort_by(f.age, Order::Desc)
        .limit(0, 20)
        .all()
        .await?;
    println!(
        "adults in Paris who don't write COBOL: {:?}",
        adults.iter().map(|u| &u.name).collect::<Vec<_>>()
    );

    let n: u64 = users.find(f.name.matches("alice")).count().await?;
    println!("users matching \"alice\": {n}");

    let near: Vec<(User, f32)> = users
        .knn(f.embedding, &[0.1, 0.2, 0.3, 0.4], 5)
        .filter(f.city.eq("Paris"))
        .all()
        .await?;
    for (u, distance) in &near {
        println!(
            "near [0.1, 0.2, 0.3, 0.4] in Paris: {} at {distance:.4}",
            u.name
        );
    }
    Ok(())
}
