//! Runs the reference endpoint on a local port, for manual poking with curl:
//! `cargo run -p llm-parity-reference --example serve -- 8088 [openai|gemini-compat]`.

use llm_parity_reference::{serve, Config, Profile};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8088);
    let profile = args
        .next()
        .and_then(|p| Profile::parse(&p))
        .unwrap_or(Profile::OpenAi);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "reference endpoint ({}) on http://{}/v1",
        profile.name(),
        listener.local_addr()?
    );
    serve(
        listener,
        Config {
            deviations: profile.deviations(),
            ..Config::default()
        },
    )
    .await
}
