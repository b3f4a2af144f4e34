//! Challenge 5a–5c, kafka-style logs: runs `challenges::nodes::kafka`.

use challenges::nodes::kafka::Kafka;

fn main() {
    glomers::run(Kafka::new);
}
