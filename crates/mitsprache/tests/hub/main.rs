//! The hub end to end, through the real HTTP stack, on SQLite and on PostgreSQL.
//!
//! One integration binary for the crate (link time). `TestApp` is built by the same
//! `App::build` as `mitsprache serve`; every test gets a fresh database (an SQLite file, or a
//! PostgreSQL schema in the `test` database; set PG_TEST_URL to use another server).

// Test cases are plain async functions called from generated #[test]s, which clippy's
// allow-unwrap-in-tests does not see; in tests a failed unwrap is the failure message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod api;
mod cli;
mod data;
mod flows;
mod helpers;
mod jobs;
mod logout;
mod matching;
mod oidc;
mod openapi;
mod pages;
mod participation;
mod probe;
mod sources;
mod vendors;

use helpers::{Backend, TestApp};

/// Runs each named case once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { crate::$module::$case(crate::TestApp::spawn(crate::Backend::Sqlite).await).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { crate::$module::$case(crate::TestApp::spawn(crate::Backend::Postgres).await).await })*
        }
    };
}

on_both_backends! {
    participation::a_citizen_finds_follows_and_deletes_their_participation_across_tools,
    participation::deletion_events_are_retried_refused_or_sent_by_scim,
    participation::the_municipality_page_charts_contributions_across_tools,
    pages::the_portal_filters_by_kind_and_nearness_and_shows_the_same_on_a_map,
    pages::without_a_tile_source_the_map_requests_no_other_host,
    sources::a_source_is_checked_and_synced_once_at_a_time,
    data::a_tool_pushes_its_records_and_anyone_reads_them,
    data::a_rejected_record_names_its_fields,
    data::pushes_need_data_write_and_reach_only_their_own_records,
    data::a_bulk_import_keeps_valid_lines_and_names_the_rest,
    data::the_schemas_are_served_where_their_ids_say,
    data::a_hub_killed_during_imports_keeps_every_acknowledged_record,
    data::concurrent_pushes_of_a_new_record_all_succeed,
    data::topic_and_word_filters_follow_every_change,
    data::a_pushing_tool_sees_its_conformance_report,
    data::a_council_paper_is_pushed_and_read_in_every_format,
    accounts::the_last_admin_keeps_the_role,
    vendors::a_vendor_proposes_an_editor_publishes_and_the_history_shows_it,
    vendors::a_stale_proposal_is_not_published_over_a_newer_change,
    vendors::people_ask_the_vendor_for_an_unknown_fact,
    pages::lists_compare_as_sets,
    pages::the_marketplace_guides_instead_of_dead_ends,
    pages::a_card_never_states_more_than_its_record,
    matching::the_evaluation_matrix_rows_match_the_page,
    accounts::an_address_an_older_rule_accepted_can_still_log_in,
    api::health_check_answers_once_the_hub_serves,
    api::a_first_start_loads_the_bundled_catalogue,
    api::search_finds_german_word_forms,
    api::filters_combine_and_facets_count_the_result,
    api::paging_is_consistent,
    api::malformed_parameters_get_problem_details,
    api::unknown_records_are_404_problem_details,
    api::writes_need_an_editor_role,
    api::a_written_tool_is_served_at_once_and_round_trips,
    api::stale_edits_are_refused,
    api::invalid_records_are_rejected_with_field_errors,
    api::bad_bodies_are_rejected_without_touching_the_catalogue,
    api::an_interface_in_use_cannot_be_deleted,
    api::the_catalogue_feed_supports_conditional_requests,
    api::publiccode_is_exported_only_when_the_record_allows_it,
    api::a_second_instance_sees_writes_after_refresh,
    pages::the_marketplace_is_german_by_default_and_english_on_request,
    pages::the_language_choice_is_remembered,
    pages::search_and_facets_work_without_javascript,
    pages::a_tool_page_shows_sources_and_unknown_facts,
    pages::the_operator_is_named_on_every_page_and_its_legal_texts_are_served,
    pages::the_portal_lists_the_processes_of_every_tool,
    pages::the_comparison_marks_differences,
    pages::bad_page_requests_get_localized_error_pages,
    pages::pages_send_security_headers,
    oidc::discovery_and_keys_describe_the_provider,
    oidc::the_code_flow_issues_verified_pairwise_tokens,
    oidc::refresh_tokens_rotate_and_reuse_revokes_the_family,
    oidc::code_exchange_error_paths,
    oidc::authorization_request_error_paths,
    oidc::consent_is_asked_remembered_and_revocable,
    oidc::client_credentials_tokens_are_jwts_with_audience,
    oidc::private_key_jwt_authenticates_once_per_assertion,
    accounts::login_is_rate_limited_without_revealing_accounts,
    accounts::registration_verification_and_password_reset_go_by_mail,
    logout::logout_reaches_every_tool_of_the_session,
    accounts::the_account_page_exports_everything_about_the_person,
    oidc::dynamic_registration_needs_the_initial_token,
    api::people_edit_the_catalogue_by_their_role,
    oidc::keys_rotate_and_old_keys_stay_published,
    accounts::passwords_are_rehashed_when_parameters_change,
    oidc::max_age_login_hint_and_ui_locales_shape_the_login,
    oidc::clients_may_ask_for_rs256_id_tokens,
    oidc::rfc9700_items_without_their_own_test,
    oidc::dynamic_registration_with_the_initial_token,
    accounts::behind_a_proxy_the_forwarded_address_is_limited,
    accounts::every_form_needs_its_csrf_token,
    accounts::over_tls_cookies_are_secure_and_host_bound,
    oidc::a_sector_identifier_gives_one_subject_across_hosts,
    logout::a_failed_back_channel_logout_is_retried,
    jobs::expired_records_are_purged,
    jobs::two_instances_deliver_each_logout_once,
    jobs::a_refused_delivery_is_retried_with_backoff_and_keeps_its_error,
    jobs::recurring_jobs_have_one_row_and_are_due_again_after_a_run,
    jobs::a_job_claimed_again_belongs_to_the_new_claim,
    jobs::an_instance_killed_mid_delivery_loses_no_logout,
    oidc::a_refresh_token_sent_twice_at_once_rotates_once,
    oidc::a_client_allowed_without_pkce_logs_in_with_a_nonce,
    logout::a_logout_with_only_a_return_address_asks_and_ends_the_session,
    probe::parallel_logins_cannot_outrun_the_limit,
    probe::registration_tells_nobody_whether_an_address_is_taken,
    probe::concurrent_writers_and_rotations_never_fail,
    probe::a_tools_login_token_cannot_edit_the_catalogue,
    probe::a_password_reset_ends_offline_grants_too,
    probe::introspection_answers_only_about_the_callers_own_tokens,
    probe::control_characters_in_the_request_reference_are_refused,
    probe::a_request_head_must_arrive_in_time,
    probe::guessable_passwords_are_refused,
    probe::every_route_group_answers_errors_in_its_own_format,
    probe::the_not_found_page_has_a_content_security_policy,
    matching::the_matching_api_ranks_explains_and_excludes,
    matching::the_matching_api_rejects_impossible_profiles,
    matching::the_assistant_page_works_without_javascript,
    matching::the_assistant_suggests_relaxations_and_toolkits,
    matching::the_evaluation_matrix_exports_as_csv,
    matching::bad_assistant_input_gets_a_localized_error_page,
    cli::a_failed_import_changes_nothing,
    cli::importing_the_same_files_twice_changes_nothing,
    cli::publiccode_files_update_only_their_fields,
}
