use redis_model::RedisModel;

#[derive(RedisModel)]
#[redis(fields = "user handles")]
struct User {
    #[redis(id)]
    id: String,
}

fn main() {}
