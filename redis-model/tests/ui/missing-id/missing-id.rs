use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    name: String,
}

fn main() {}
