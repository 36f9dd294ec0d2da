//! Splitting a return value into its `Ok` value or its error, by autoref specialisation: a
//! `Result` splits, anything else is its own `Ok` value.

use std::fmt;

use super::value::Wrap;

/// The uninhabited error of a return type that is not a `Result`.
#[doc(hidden)]
#[derive(Debug)]
pub enum NotAnError {}

impl fmt::Display for NotAnError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}
impl std::error::Error for NotAnError {}

/// Splits a `Result` return value into its `Ok` value or its error.
#[doc(hidden)]
pub trait SplitResult<'a> {
    type Ok: ?Sized;
    type Err: ?Sized;
    fn __aiobs_split(self) -> Result<&'a Self::Ok, &'a Self::Err>;
}
impl<'a, T, E> SplitResult<'a> for &Wrap<'a, Result<T, E>> {
    type Ok = T;
    type Err = E;
    #[inline]
    fn __aiobs_split(self) -> Result<&'a T, &'a E> {
        self.0.as_ref()
    }
}

/// Any other return value is its own `Ok` value.
#[doc(hidden)]
pub trait SplitPlain<'a> {
    type Ok: ?Sized;
    fn __aiobs_split(self) -> Result<&'a Self::Ok, &'a NotAnError>;
}
impl<'a, T: ?Sized> SplitPlain<'a> for Wrap<'a, T> {
    type Ok = T;
    #[inline]
    fn __aiobs_split(self) -> Result<&'a T, &'a NotAnError> {
        Ok(self.0)
    }
}
