//! IncrementalAlterConfigs, which rdkafka's safe `AdminClient` lacks, called through
//! librdkafka's C API (`rdkafka_sys`). Current brokers prefer it to the legacy AlterConfigs: it
//! sets the named keys and leaves every other override of the topic alone.
//!
//! The unsafe code is all in [`incremental_alter_configs`] and the small owners below it, which
//! destroy each librdkafka object on every path.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rdsys;
use rdkafka_sys::types::{RDKafkaAdminOp, RDKafkaRespErr};

/// The keys to set on one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfigUpdate<'a> {
    pub topic: &'a str,
    pub entries: Vec<(&'a str, &'a str)>,
}

/// Why a whole IncrementalAlterConfigs request failed; per-topic errors are returned instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncrementalAlterError {
    /// The broker (or librdkafka's view of it) lacks the API: the caller falls back to AlterConfigs.
    #[error("the broker does not support IncrementalAlterConfigs ({0})")]
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
) -> Result<Vec<TopicRefusal>, IncrementalAlterError> {
    let client = admin.inner().native_ptr();
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    let resources = ConfigResources::build(updates)?;
    // SAFETY: `client` is the live handle owned by `admin`, which outlives this call. Every
    // object created here is owned by a guard that destroys it when this function returns;
    // librdkafka copies the resources and options into the request, so destroying them after
    // the call is correct, and the queue is ours alone, so the one event on it is our result.
    unsafe {
        let options = Owned::new(
            rdsys::rd_kafka_AdminOptions_new(client, RDKafkaAdminOp::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS),
            rdsys::rd_kafka_AdminOptions_destroy,
        )
        .ok_or_else(|| IncrementalAlterError::Failed("librdkafka could not create admin options".into()))?;
        let mut error_text = [0 as std::os::raw::c_char; 256];
        let set = rdsys::rd_kafka_AdminOptions_set_request_timeout(
            options.0,
            timeout_ms,
            error_text.as_mut_ptr(),
            error_text.len(),
        );
        if set != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(IncrementalAlterError::Failed(text(error_text.as_ptr())));
        }
        let queue = Owned::new(rdsys::rd_kafka_queue_new(client), rdsys::rd_kafka_queue_destroy)
            .ok_or_else(|| IncrementalAlterError::Failed("librdkafka could not create a queue".into()))?;

        rdsys::rd_kafka_IncrementalAlterConfigs(
            client,
            resources.0.as_ptr().cast_mut(),
            resources.0.len(),
            options.0,
            queue.0,
        );

        // The request itself times out after `timeout`; the margin lets its answer arrive.
        let poll_ms = timeout_ms.saturating_add(5_000);
        let event = Owned::new(rdsys::rd_kafka_queue_poll(queue.0, poll_ms), rdsys::rd_kafka_event_destroy)
            .ok_or(IncrementalAlterError::TimedOut(timeout))?;
        let request_error = rdsys::rd_kafka_event_error(event.0);
        if request_error != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            let message = text(rdsys::rd_kafka_event_error_string(event.0));
            return Err(match RDKafkaErrorCode::from(request_error) {
                RDKafkaErrorCode::UnsupportedFeature | RDKafkaErrorCode::UnsupportedVersion => {
                    IncrementalAlterError::Unsupported(message)
                }
                _ => IncrementalAlterError::Failed(message),
            });
        }
        let result = rdsys::rd_kafka_event_IncrementalAlterConfigs_result(event.0);
        if result.is_null() {
            return Err(IncrementalAlterError::Failed("librdkafka answered with an event of another type".into()));
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
            return Err(IncrementalAlterError::Unsupported(refusals[0].message.clone()));
        }
        Ok(refusals)
    }
}

/// The request's config resources, one per topic, destroyed on drop.
struct ConfigResources(Vec<*mut rdsys::rd_kafka_ConfigResource_t>);

impl ConfigResources {
    fn build(updates: &[TopicConfigUpdate<'_>]) -> Result<ConfigResources, IncrementalAlterError> {
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
                return Err(IncrementalAlterError::Failed(format!(
                    "librdkafka rejected topic name `{}`",
                    update.topic
                )));
            }
            resources.0.push(resource);
            for (key, value) in &update.entries {
                let (key_c, value_c) = (c_string(key)?, c_string(value)?);
                // SAFETY: `resource` is live (owned by `resources`); librdkafka copies both strings.
                // A non-null result is an error object that we own and destroy.
                unsafe {
                    let error = rdsys::rd_kafka_ConfigResource_add_incremental_config(
                        resource,
                        key_c.as_ptr(),
                        rdsys::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET,
                        value_c.as_ptr(),
                    );
                    if !error.is_null() {
                        let message = text(rdsys::rd_kafka_error_string(error));
                        rdsys::rd_kafka_error_destroy(error);
                        return Err(IncrementalAlterError::Failed(format!(
                            "librdkafka rejected `{key}` of topic `{}`: {message}",
                            update.topic
                        )));
                    }
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

fn c_string(value: &str) -> Result<CString, IncrementalAlterError> {
    CString::new(value).map_err(|_| IncrementalAlterError::Failed(format!("`{value}` contains a NUL byte")))
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
