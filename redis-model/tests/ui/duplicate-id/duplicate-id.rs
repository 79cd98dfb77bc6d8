use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(id)]
    email: String,
}

fn main() {}
