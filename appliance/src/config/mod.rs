//! The declarative model of a whole telbox.
