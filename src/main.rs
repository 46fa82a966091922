fn main() -> std::process::ExitCode {
    llm_parity::cli::main()
}
