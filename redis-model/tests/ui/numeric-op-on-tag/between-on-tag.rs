use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(tag)]
    city: String,
}

fn main() {
    let _ = User::fields().city.between(18, 65);
}
