use redis_model::search::SortField;
use redis_model::RedisModel;

#[derive(RedisModel)]
struct User {
    #[redis(id)]
    id: String,
    #[redis(numeric)]
    age: u32,
    #[redis(text, sortable)]
    name: String,
}

fn need<F: SortField<User>>(_: F) {}

fn main() {
    need(User::fields().name);
    need(User::fields().age);
}
