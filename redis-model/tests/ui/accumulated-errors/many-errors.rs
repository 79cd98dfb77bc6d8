use redis_model::RedisModel;

// Every mistake is reported in one build.
#[derive(RedisModel)]
#[redis(storage = "xml", ttl = 0)]
struct User {
    #[redis(text, tag)]
    name: String,
    #[redis(geo, sortable)]
    home: String,
    #[redis(version)]
    version: u32,
    #[redis(tag, separator = ",,")]
    skills: Vec<String>,
    #[redis(vector(dim = 4))]
    embedding: Vec<f32>,
}

fn main() {}
