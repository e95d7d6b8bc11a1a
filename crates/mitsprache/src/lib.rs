//! The mitsprache binary's library: configuration, telemetry, start-up and the command line.
//! `main` and the integration tests build the hub with the same [`startup::App::build`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod mail;
pub mod startup;
pub mod telemetry;
