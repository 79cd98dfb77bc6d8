use redis_model::RedisModel;

#[derive(serde::Serialize, serde::Deserialize, RedisModel)]
#[redis(storage = "json")]
struct User {
    #[redis(id)]
    id: String,
    #[redis(tag)]
    city: String,
    #[redis(tag, path = "$.work.city", alias = "city")]
    work: Work,
    #[redis(path = "$.notes")]
    notes: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Work {
    city: String,
}

fn main() {}
