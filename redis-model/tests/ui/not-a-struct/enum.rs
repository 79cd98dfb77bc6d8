use redis_model::RedisModel;

#[derive(RedisModel)]
enum Shape {
    Circle,
}

#[derive(RedisModel)]
struct Pair(String, u32);

fn main() {}
