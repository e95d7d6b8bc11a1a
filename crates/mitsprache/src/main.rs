//! `mitsprache`: see `mitsprache --help`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match mitsprache::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole cause chain, once, for the operator.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
