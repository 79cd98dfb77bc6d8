use redis_model::RedisModel;

struct Address {
    city: String,
}

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    address: Address,
}

fn main() {}
