//! An error as text, `"<ErrorType>: <message>: <source>…"`, by autoref specialisation:
//! through `std::error::Error` (with its source chain), boxed errors, `Display`, `Debug`, else
//! the type name.

use std::fmt::{self, Write as _};

use super::short_type_name;
use super::value::Wrap;

/// Formats an error as `"<ErrorType>: <message>"`, the message followed by its source chain.
pub(crate) fn error_text(
    type_name: &str,
    message: &dyn fmt::Display,
    mut source: Option<&dyn std::error::Error>,
) -> String {
    let mut text = short_type_name(type_name);
    let _ = write!(text, ": {message}");
    let mut depth = 0;
    while let Some(err) = source {
        let _ = write!(text, ": {err}");
        source = err.source();
        depth += 1;
        if depth == 32 {
            break; // a cyclic chain
        }
    }
    text
}

/// Error text through `std::error::Error`: message and source chain.
#[doc(hidden)]
pub trait ErrViaError {
    fn __aiobs_error(self) -> String;
}
impl<E: std::error::Error + ?Sized> ErrViaError for &&&Wrap<'_, E> {
    fn __aiobs_error(self) -> String {
        error_text(std::any::type_name::<E>(), &self.0, self.0.source())
    }
}
/// Error text of boxed errors (which don't implement `Error` themselves): message and chain.
/// One trait per box type, all at one autoref level above [`ErrViaError`].
macro_rules! boxed_error_text {
    ($($trait:ident: $ty:ty;)*) => {$(
        #[doc(hidden)]
        pub trait $trait {
            fn __aiobs_error(self) -> String;
        }
        impl $trait for &&&&Wrap<'_, $ty> {
            fn __aiobs_error(self) -> String {
                error_text(std::any::type_name::<$ty>(), &self.0, self.0.source())
            }
        }
    )*};
}

boxed_error_text! {
    ErrViaBoxSendSync: Box<dyn std::error::Error + Send + Sync>;
    ErrViaBoxSend: Box<dyn std::error::Error + Send>;
    ErrViaBox: Box<dyn std::error::Error>;
}

/// Error text through `Display` (alternate form, which error-chain types such as `anyhow`
/// use to print their sources).
#[doc(hidden)]
pub trait ErrViaDisplay {
    fn __aiobs_error(self) -> String;
}
impl<E: fmt::Display + ?Sized> ErrViaDisplay for &&Wrap<'_, E> {
    fn __aiobs_error(self) -> String {
        format!(
            "{}: {:#}",
            short_type_name(std::any::type_name::<E>()),
            self.0
        )
    }
}

/// Error text through `Debug`.
#[doc(hidden)]
pub trait ErrViaDebug {
    fn __aiobs_error(self) -> String;
}
impl<E: fmt::Debug + ?Sized> ErrViaDebug for &Wrap<'_, E> {
    fn __aiobs_error(self) -> String {
        format!(
            "{}: {:?}",
            short_type_name(std::any::type_name::<E>()),
            self.0
        )
    }
}

/// Error text when the error type can't be printed: its type name.
#[doc(hidden)]
pub trait ErrViaTypeName {
    fn __aiobs_error(self) -> String;
}
impl<E: ?Sized> ErrViaTypeName for Wrap<'_, E> {
    fn __aiobs_error(self) -> String {
        short_type_name(std::any::type_name::<E>())
    }
}
