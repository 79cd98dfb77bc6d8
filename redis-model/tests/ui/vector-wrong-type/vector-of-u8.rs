use redis_model::RedisModel;

#[derive(RedisModel)]
struct Doc {
    #[redis(id)]
    id: String,
    #[redis(vector(dim = 4, distance = "cosine"))]
    embedding: Vec<u8>,
}

fn main() {}
