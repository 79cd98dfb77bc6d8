use redis_model::RedisModel;

#[derive(RedisModel)]
struct Doc {
    #[redis(id)]
    id: String,
    #[redis(vector(dim = 4, distance = "cosine", type = "float64"))]
    embedding: [f32; 3],
}

fn main() {}
