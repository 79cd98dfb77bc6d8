use redis_model::RedisModel;

#[derive(serde::Serialize, serde::Deserialize, RedisModel)]
#[redis(storage = "json")]
struct User {
    #[redis(id)]
    #[serde(rename(serialize = "userId", deserialize = "user_id"))]
    id: String,
    #[redis(tag)]
    #[serde(flatten)]
    address: Address,
    #[redis(numeric)]
    #[serde(skip)]
    visits: u64,
    // Not indexed: serde may put it anywhere.
    #[serde(skip)]
    cache: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Address {
    city: String,
}

fn main() {}
