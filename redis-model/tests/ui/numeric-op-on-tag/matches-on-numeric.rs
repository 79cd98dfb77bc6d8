use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(numeric)]
    age: u32,
}

fn main() {
    let _ = User::fields().age.matches("old");
}
