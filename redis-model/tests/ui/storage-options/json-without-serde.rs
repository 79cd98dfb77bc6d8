use redis_model::RedisModel;

#[derive(RedisModel)]
#[redis(storage = "json")]
struct User {
    #[redis(id)]
    id: String,
}

fn main() {}
