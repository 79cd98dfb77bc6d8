use redis_model::RedisModel;

struct Labels {
    first: String,
}

// A tag field is validated as well as encoded and decoded: still one error.
#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(tag)]
    labels: Labels,
}

fn main() {}
