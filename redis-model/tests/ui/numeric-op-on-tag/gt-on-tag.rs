use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(tag)]
    city: String,
    #[redis(text)]
    name: String,
}

fn main() {
    let f = User::fields();
    let _ = f.city.gt(18);
    let _ = f.name.lt(3);
}
