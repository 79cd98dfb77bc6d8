use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(tag, path = "$.address.city", alias = "city")]
    address: String,
}

fn main() {}
