tradeforge_migrator::plan!("indicator_blank_display_name");

fn main() {
    let _ = &PLAN;
}
