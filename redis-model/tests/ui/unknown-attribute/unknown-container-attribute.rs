use redis_model::RedisModel;

#[derive(RedisModel)]
#[redis(prefix = "user", expire = 60)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(vector(dim = 4, distance = "cosine", metric = "l2"))]
    embedding: Vec<f32>,
}

fn main() {}
