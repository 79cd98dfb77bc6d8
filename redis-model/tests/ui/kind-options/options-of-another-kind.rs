use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(numeric, nostem)]
    age: u32,
    #[redis(text, separator = ",")]
    name: String,
    #[redis(sortable)]
    bio: String,
    #[redis(vector(dim = 2, distance = "l2", m = 16), sortable)]
    embedding: Vec<f32>,
}

fn main() {}
