use redis_model::RedisModel;

#[derive(RedisModel)]
#[redis(prefix = user, index = "")]
struct User {
    #[redis(id)]
    id: String,
    #[redis(text, weight = "heavy")]
    name: String,
    #[redis(vector(dim = 0, distance = "manhattan", algorithm = "ivf"))]
    embedding: Vec<f32>,
    #[redis(numeric = 1)]
    age: u32,
}

fn main() {}
