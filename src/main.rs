//! Entry point of terraform-provider-sips: flags, logging and the plugin server.

use std::process::ExitCode;

use std::sync::Arc;

use sips::framework::ProviderServer;
use sips::plugin::{self, PluginError, ServeOptions};
use sips::protocol::v5::ProviderV5;
use sips::protocol::v6::ProviderV6;
use sips::provider::{PROVIDER_ADDRESS, SipsProvider};

/// Plugin protocol versions this provider serves.
const SUPPORTED_VERSIONS: [u32; 2] = [5, 6];

const USAGE: &str = "\
Usage: terraform-provider-sips [--debug | --version | --help]

Terraform and OpenTofu provider for SIPS partner credentials. Terraform or
OpenTofu starts this binary; running it by hand is only useful with --debug.

Options:
  --debug     serve without TLS on a unix socket and print the
              TF_REATTACH_PROVIDERS value for attaching Terraform; Ctrl-C stops it
  --version   print the provider version and exit
  --help      print this help and exit

Environment:
  SIPS_PLUGIN_PROTOCOL_VERSIONS   comma list narrowing the plugin protocol
                                  versions offered (5, 6)";

enum Command {
    Serve { debug: bool },
    Version,
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut debug = false;
    for arg in args {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" => return Ok(Command::Version),
            "--help" | "-help" | "-h" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Serve { debug })
}

fn main() -> ExitCode {
    let command = match parse_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("terraform-provider-sips: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Version => {
            println!("terraform-provider-sips {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Serve { debug } => serve(debug),
    }
}

fn serve(debug: bool) -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("terraform-provider-sips: failed to start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServeOptions {
        supported_versions: SUPPORTED_VERSIONS.to_vec(),
        debug,
        provider_address: PROVIDER_ADDRESS.to_owned(),
    };
    let server = Arc::new(ProviderServer::new(SipsProvider));
    let result = runtime.block_on(plugin::serve(options, move |version, _shutdown| {
        let routes = tonic::service::Routes::default();
        match version {
            5 => routes.add_service(ProviderV5::new(server).into_service()),
            _ => routes.add_service(ProviderV6::new(server).into_service()),
        }
    }));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(PluginError::MissingMagicCookie) => {
            eprintln!("{}", PluginError::MissingMagicCookie);
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!(
                "terraform-provider-sips: {}",
                sips::framework::diag::error_chain(&error)
            );
            ExitCode::FAILURE
        }
    }
}

/// Sends logs to stderr as the JSON lines Terraform reads. A failure only
/// costs the logs, so the provider serves on.
fn init_logging() {
    if let Err(error) = sips::logging::init() {
        eprintln!("terraform-provider-sips: logging disabled: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn args_default_to_serve() {
        assert!(matches!(parse(&[]), Ok(Command::Serve { debug: false })));
    }

    #[test]
    fn args_debug_flag() {
        assert!(matches!(
            parse(&["--debug"]),
            Ok(Command::Serve { debug: true })
        ));
    }

    #[test]
    fn args_version_and_help() {
        assert!(matches!(parse(&["--version"]), Ok(Command::Version)));
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }

    #[test]
    fn args_reject_unknown() {
        let error = parse(&["--serve"]).err().unwrap();
        assert!(error.contains("--serve"), "{error}");
    }
}
