//! What rdkafka's safe `AdminClient` lacks, called through librdkafka's C API (`rdkafka_sys`):
//! IncrementalAlterConfigs, which current brokers prefer to the legacy AlterConfigs (it sets the
//! named keys and leaves every other override of the topic alone), DescribeConfigs naming
//! the keys to describe, and CreateTopics with `validate_only` keeping the broker's messages.
//!
//! The unsafe code is all in [`call`], the three requests, and the small owners below them, which
//! destroy each librdkafka object on every path.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rdsys;
use rdkafka_sys::types::{RDKafkaAdminOp, RDKafkaRespErr};

/// The keys to set on (or describe of) one topic; the values are unused when describing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfigUpdate<'a> {
    pub topic: &'a str,
    pub entries: Vec<(&'a str, &'a str)>,
}

/// Why a whole request failed; per-topic errors are returned instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminCallError {
    /// The broker (or librdkafka's view of it) lacks the API: the caller falls back to the
    /// request the safe API has.
    #[error("the broker does not support the request ({0})")]
    Unsupported(String),
    #[error("{0}")]
    Failed(String),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// One topic the broker refused to alter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRefusal {
    pub topic: String,
    pub code: RDKafkaErrorCode,
    pub message: String,
}

/// Sets every key of `updates` with one IncrementalAlterConfigs request (op SET) and waits up to
/// `timeout` for the answer. Blocks: call it from `spawn_blocking`.
///
/// Returns the topics the broker refused (empty when all were altered).
pub fn incremental_alter_configs(
    admin: &AdminClient<DefaultClientContext>,
    updates: &[TopicConfigUpdate<'_>],
    timeout: Duration,
) -> Result<Vec<TopicRefusal>, AdminCallError> {
    let resources = ConfigResources::build(updates, ConfigEntries::Set)?;
    let op = RDKafkaAdminOp::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS;
    let event = call(admin, op, timeout, |client, options, queue| {
        // SAFETY: every pointer is live for the call (see `call`); librdkafka copies the resources.
        unsafe {
            rdsys::rd_kafka_IncrementalAlterConfigs(
                client,
                resources.0.as_ptr().cast_mut(),
                resources.0.len(),
                options,
                queue,
            )
        };
        Ok(())
    })?;
    // SAFETY: `event` is a live result event owned here; the resources read from it live as long.
    unsafe {
        let result = rdsys::rd_kafka_event_IncrementalAlterConfigs_result(event.0);
        if result.is_null() {
            return Err(AdminCallError::Failed("librdkafka answered with an event of another type".into()));
        }
        let mut count = 0;
        let answered = rdsys::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut count);
        let mut refusals = Vec::new();
        for index in 0..count {
            let resource = *answered.add(index);
            let code = rdsys::rd_kafka_ConfigResource_error(resource);
            if code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                refusals.push(TopicRefusal {
                    topic: text(rdsys::rd_kafka_ConfigResource_name(resource)),
                    code: RDKafkaErrorCode::from(code),
                    message: text(rdsys::rd_kafka_ConfigResource_error_string(resource)),
                });
            }
        }
        // A broker that knows the request but not this version refuses every resource alike.
        if !refusals.is_empty() && refusals.iter().all(|refusal| refusal.code == RDKafkaErrorCode::UnsupportedVersion) {
            return Err(AdminCallError::Unsupported(refusals[0].message.clone()));
        }
        Ok(refusals)
    }
}

/// The values one topic's DescribeConfigs answer holds, or the broker's error for that topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedTopic {
    pub topic: String,
    pub configs: Result<BTreeMap<String, String>, RDKafkaErrorCode>,
}

/// One DescribeConfigs request that names the keys to describe for each topic (the safe API
/// always asks for every key), so the answer holds only those. Blocks: call it from
/// `spawn_blocking`. A broker that cannot take named keys fails the whole request.
pub fn describe_named_configs(
    admin: &AdminClient<DefaultClientContext>,
    wanted: &[TopicConfigUpdate<'_>],
    timeout: Duration,
) -> Result<Vec<DescribedTopic>, AdminCallError> {
    let resources = ConfigResources::build(wanted, ConfigEntries::Name)?;
    let op = RDKafkaAdminOp::RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS;
    let event = call(admin, op, timeout, |client, options, queue| {
        // SAFETY: every pointer is live for the call (see `call`); librdkafka copies the resources.
        unsafe {
            rdsys::rd_kafka_DescribeConfigs(client, resources.0.as_ptr().cast_mut(), resources.0.len(), options, queue)
        };
        Ok(())
    })?;
    // SAFETY: `event` is a live result event owned here; the resources and entries read from it
    // live as long, and each string is copied before it is dropped.
    unsafe {
        let result = rdsys::rd_kafka_event_DescribeConfigs_result(event.0);
        if result.is_null() {
            return Err(AdminCallError::Failed("librdkafka answered with an event of another type".into()));
        }
        let mut count = 0;
        let answered = rdsys::rd_kafka_DescribeConfigs_result_resources(result, &mut count);
        let mut described = Vec::with_capacity(count);
        for index in 0..count {
            let resource = *answered.add(index);
            let topic = text(rdsys::rd_kafka_ConfigResource_name(resource));
            let code = rdsys::rd_kafka_ConfigResource_error(resource);
            if code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                described.push(DescribedTopic { topic, configs: Err(RDKafkaErrorCode::from(code)) });
                continue;
            }
            let mut entry_count = 0;
            let entries = rdsys::rd_kafka_ConfigResource_configs(resource, &mut entry_count);
            let mut configs = BTreeMap::new();
            for entry_index in 0..entry_count {
                let entry = *entries.add(entry_index);
                let value = rdsys::rd_kafka_ConfigEntry_value(entry);
                if !value.is_null() {
                    configs.insert(text(rdsys::rd_kafka_ConfigEntry_name(entry)), text(value));
                }
            }
            described.push(DescribedTopic { topic, configs: Ok(configs) });
        }
        Ok(described)
    }
}

/// A topic to create, as [`validate_new_topics`] sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTopicSpec<'a> {
    pub name: &'a str,
    pub partitions: i32,
    pub replication_factor: i32,
    pub config: &'a [(&'a str, &'a str)],
}

/// One CreateTopics request with `validate_only`: the broker checks every topic and creates
/// none (if it honours the flag). rdkafka's safe API returns only an error code per topic; this
/// keeps the broker's message, which names the key and why (`Invalid value … for configuration
/// retention.ms: …`). Blocks: call it from `spawn_blocking`. Returns the refused topics.
pub fn validate_new_topics(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[NewTopicSpec<'_>],
    timeout: Duration,
) -> Result<Vec<TopicRefusal>, AdminCallError> {
    let new_topics = NewTopics::build(topics)?;
    let op = RDKafkaAdminOp::RD_KAFKA_ADMIN_OP_CREATETOPICS;
    let event = call(admin, op, timeout, |client, options, queue| {
        let mut error_text = [0 as std::os::raw::c_char; 256];
        // SAFETY: every pointer is live for the call (see `call`); librdkafka copies the topics.
        unsafe {
            let set =
                rdsys::rd_kafka_AdminOptions_set_validate_only(options, 1, error_text.as_mut_ptr(), error_text.len());
            if set != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err(AdminCallError::Failed(text(error_text.as_ptr())));
            }
            rdsys::rd_kafka_CreateTopics(client, new_topics.0.as_ptr().cast_mut(), new_topics.0.len(), options, queue);
        }
        Ok(())
    })?;
    // SAFETY: `event` is a live result event owned here; the results read from it live as long.
    unsafe {
        let result = rdsys::rd_kafka_event_CreateTopics_result(event.0);
        if result.is_null() {
            return Err(AdminCallError::Failed("librdkafka answered with an event of another type".into()));
        }
        let mut count = 0;
        let answered = rdsys::rd_kafka_CreateTopics_result_topics(result, &mut count);
        let mut refusals = Vec::new();
        for index in 0..count {
            let topic = *answered.add(index);
            let code = rdsys::rd_kafka_topic_result_error(topic);
            if code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                refusals.push(TopicRefusal {
                    topic: text(rdsys::rd_kafka_topic_result_name(topic)),
                    code: RDKafkaErrorCode::from(code),
                    message: text(rdsys::rd_kafka_topic_result_error_string(topic)),
                });
            }
        }
        Ok(refusals)
    }
}

/// The request's new topics, destroyed on drop.
struct NewTopics(Vec<*mut rdsys::rd_kafka_NewTopic_t>);

impl NewTopics {
    fn build(topics: &[NewTopicSpec<'_>]) -> Result<NewTopics, AdminCallError> {
        let mut built = NewTopics(Vec::with_capacity(topics.len()));
        for topic in topics {
            let name = c_string(topic.name)?;
            let mut error_text = [0 as std::os::raw::c_char; 256];
            // SAFETY: `name` and `error_text` are valid for the call; the new topic is pushed at
            // once so that `Drop` destroys it if a later step fails.
            let new_topic = unsafe {
                rdsys::rd_kafka_NewTopic_new(
                    name.as_ptr(),
                    topic.partitions,
                    topic.replication_factor,
                    error_text.as_mut_ptr(),
                    error_text.len(),
                )
            };
            if new_topic.is_null() {
                return Err(AdminCallError::Failed(format!(
                    "librdkafka rejected topic `{}`: {}",
                    topic.name,
                    text(error_text.as_ptr())
                )));
            }
            built.0.push(new_topic);
            for (key, value) in topic.config {
                let (key_c, value_c) = (c_string(key)?, c_string(value)?);
                // SAFETY: `new_topic` is live (owned by `built`); librdkafka copies both strings.
                let code = unsafe { rdsys::rd_kafka_NewTopic_set_config(new_topic, key_c.as_ptr(), value_c.as_ptr()) };
                if code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                    return Err(AdminCallError::Failed(format!(
                        "librdkafka rejected `{key}` of topic `{}`: {}",
                        topic.name,
                        RDKafkaErrorCode::from(code)
                    )));
                }
            }
        }
        Ok(built)
    }
}

impl Drop for NewTopics {
    fn drop(&mut self) {
        for &new_topic in &self.0 {
            // SAFETY: each pointer came from `rd_kafka_NewTopic_new` and is destroyed once.
            unsafe { rdsys::rd_kafka_NewTopic_destroy(new_topic) }
        }
    }
}

/// Creates admin options for `op` with `timeout` and a queue of our own, lets `send` queue the
/// request on them, and waits for its one result event. Fails with the request-level error,
/// [`AdminCallError::Unsupported`] when the broker lacks the request.
fn call(
    admin: &AdminClient<DefaultClientContext>,
    op: RDKafkaAdminOp,
    timeout: Duration,
    send: impl FnOnce(
        *mut rdsys::rd_kafka_t,
        *mut rdsys::rd_kafka_AdminOptions_t,
        *mut rdsys::rd_kafka_queue_t,
    ) -> Result<(), AdminCallError>,
) -> Result<Owned<rdsys::rd_kafka_event_t>, AdminCallError> {
    let client = admin.inner().native_ptr();
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: `client` is the live handle owned by `admin`, which outlives this call. Every
    // object created here is owned by a guard that destroys it when this function returns;
    // librdkafka copies the options into the request, so destroying them after the call is
    // correct, and the queue is ours alone, so the one event on it is our result.
    unsafe {
        let options = Owned::new(rdsys::rd_kafka_AdminOptions_new(client, op), rdsys::rd_kafka_AdminOptions_destroy)
            .ok_or_else(|| AdminCallError::Failed("librdkafka could not create admin options".into()))?;
        let mut error_text = [0 as std::os::raw::c_char; 256];
        let set = rdsys::rd_kafka_AdminOptions_set_request_timeout(
            options.0,
            timeout_ms,
            error_text.as_mut_ptr(),
            error_text.len(),
        );
        if set != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(AdminCallError::Failed(text(error_text.as_ptr())));
        }
        let queue = Owned::new(rdsys::rd_kafka_queue_new(client), rdsys::rd_kafka_queue_destroy)
            .ok_or_else(|| AdminCallError::Failed("librdkafka could not create a queue".into()))?;

        send(client, options.0, queue.0)?;

        // The request itself times out after `timeout`; the margin lets its answer arrive.
        let poll_ms = timeout_ms.saturating_add(5_000);
        let event = Owned::new(rdsys::rd_kafka_queue_poll(queue.0, poll_ms), rdsys::rd_kafka_event_destroy)
            .ok_or(AdminCallError::TimedOut(timeout))?;
        let request_error = rdsys::rd_kafka_event_error(event.0);
        if request_error != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            let message = text(rdsys::rd_kafka_event_error_string(event.0));
            return Err(match RDKafkaErrorCode::from(request_error) {
                RDKafkaErrorCode::UnsupportedFeature | RDKafkaErrorCode::UnsupportedVersion => {
                    AdminCallError::Unsupported(message)
                }
                _ => AdminCallError::Failed(message),
            });
        }
        Ok(event)
    }
}

/// What each key of a [`TopicConfigUpdate`] becomes on its resource.
#[derive(Clone, Copy)]
enum ConfigEntries {
    /// An incremental SET of the value.
    Set,
    /// Only the name, as a key to describe.
    Name,
}

/// The request's config resources, one per topic, destroyed on drop.
struct ConfigResources(Vec<*mut rdsys::rd_kafka_ConfigResource_t>);

impl ConfigResources {
    fn build(updates: &[TopicConfigUpdate<'_>], entries: ConfigEntries) -> Result<ConfigResources, AdminCallError> {
        let mut resources = ConfigResources(Vec::with_capacity(updates.len()));
        for update in updates {
            let name = c_string(update.topic)?;
            // SAFETY: `name` is a valid C string for the call; the resource is pushed at once so
            // that `Drop` destroys it if a later step fails.
            let resource = unsafe {
                rdsys::rd_kafka_ConfigResource_new(
                    rdsys::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC,
                    name.as_ptr(),
                )
            };
            if resource.is_null() {
                return Err(AdminCallError::Failed(format!("librdkafka rejected topic name `{}`", update.topic)));
            }
            resources.0.push(resource);
            for (key, value) in &update.entries {
                let (key_c, value_c) = (c_string(key)?, c_string(value)?);
                // SAFETY: `resource` is live (owned by `resources`); librdkafka copies both strings.
                // A non-null error object is ours to destroy.
                let message = unsafe {
                    match entries {
                        ConfigEntries::Set => {
                            let error = rdsys::rd_kafka_ConfigResource_add_incremental_config(
                                resource,
                                key_c.as_ptr(),
                                rdsys::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET,
                                value_c.as_ptr(),
                            );
                            (!error.is_null()).then(|| {
                                let message = text(rdsys::rd_kafka_error_string(error));
                                rdsys::rd_kafka_error_destroy(error);
                                message
                            })
                        }
                        ConfigEntries::Name => {
                            // DescribeConfigs sends only the names; librdkafka wants some value.
                            let code =
                                rdsys::rd_kafka_ConfigResource_set_config(resource, key_c.as_ptr(), c"".as_ptr());
                            (code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR)
                                .then(|| RDKafkaErrorCode::from(code).to_string())
                        }
                    }
                };
                if let Some(message) = message {
                    return Err(AdminCallError::Failed(format!(
                        "librdkafka rejected `{key}` of topic `{}`: {message}",
                        update.topic
                    )));
                }
            }
        }
        Ok(resources)
    }
}

impl Drop for ConfigResources {
    fn drop(&mut self) {
        for &resource in &self.0 {
            // SAFETY: each pointer came from `rd_kafka_ConfigResource_new` and is destroyed once.
            unsafe { rdsys::rd_kafka_ConfigResource_destroy(resource) }
        }
    }
}

/// A librdkafka object and the function that destroys it.
struct Owned<T>(*mut T, unsafe extern "C" fn(*mut T));

impl<T> Owned<T> {
    /// `None` when librdkafka returned null (nothing to destroy).
    fn new(pointer: *mut T, destroy: unsafe extern "C" fn(*mut T)) -> Option<Owned<T>> {
        (!pointer.is_null()).then_some(Owned(pointer, destroy))
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer is non-null, came from librdkafka with this destructor, and is
        // destroyed only here.
        unsafe { (self.1)(self.0) }
    }
}

fn c_string(value: &str) -> Result<CString, AdminCallError> {
    CString::new(value).map_err(|_| AdminCallError::Failed(format!("`{value}` contains a NUL byte")))
}

/// A librdkafka C string as an owned `String`; empty for null.
fn text(pointer: *const std::os::raw::c_char) -> String {
    if pointer.is_null() {
        return String::new();
    }
    // SAFETY: librdkafka returns NUL-terminated strings that live at least as long as the
    // object they came from, which is still alive here.
    unsafe { CStr::from_ptr(pointer) }.to_string_lossy().into_owned()
}
