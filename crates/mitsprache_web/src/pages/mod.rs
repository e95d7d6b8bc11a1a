//! Server-rendered pages (German by default, English on request). Templates are compiled and
//! auto-escaped by askama; handlers build plain view models so templates stay free of logic.
//! Every page works without JavaScript.

pub mod account;
pub mod admin;
pub mod assistant;
pub mod docs;
pub mod groups;
pub mod login;
pub mod marketplace;
pub mod operator;
pub mod participation;
pub mod portal;
pub mod upstream;
pub mod vendor;
pub mod view;
