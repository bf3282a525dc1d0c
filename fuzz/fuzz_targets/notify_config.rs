//! The notification configuration (`--notify-config`, TOML) on arbitrary text: an error or a
//! configuration, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = yingji_notify::NotifyConfig::from_toml(text) {
        for channel in ["sms", "email", "webhook", "wecom", "inapp"] {
            let _ = cfg.limits(channel);
        }
    }
});
