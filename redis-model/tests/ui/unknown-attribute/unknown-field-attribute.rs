use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(txt)]
    name: String,
    #[redis(numeric, indexed = true)]
    age: u32,
}

fn main() {}
