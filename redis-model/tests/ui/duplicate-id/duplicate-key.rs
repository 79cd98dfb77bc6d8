use redis_model::RedisModel;

#[derive(RedisModel)]
#[redis(prefix = "user")]
#[redis(prefix = "member")]
struct User {
    #[redis(id, id)]
    id: String,
    #[redis(text, weight = 2.0, weight = 3.0)]
    name: String,
}

fn main() {}
