tradeforge_migrator::plan!("topic_config_compression_type_brotli");

fn main() {
    let _ = &PLAN;
}
