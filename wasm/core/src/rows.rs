//! List rows (`<li>`) as units of meaning: a versions row or a listing row is the innermost open
//! list item, whatever its classes say.

use crate::tags::Tag;

/// The open list items, innermost last, each with what its kind of page collects.
#[derive(Debug)]
pub struct Rows<T> {
    open: Vec<(usize, T)>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { open: Vec::new() }
    }
}

impl<T: Default> Rows<T> {
    /// Call for every opened element; starts a row for `<li>`.
    pub fn on_start(&mut self, tag: Tag, index: usize, opened: bool) {
        if tag == Tag::LI && opened {
            self.open.push((index, T::default()));
        }
    }

    /// Call for every closed element; returns the row it finished, if it was one.
    pub fn on_end(&mut self, index: usize) -> Option<T> {
        match self.open.last() {
            Some((at, _)) if *at == index => self.open.pop().map(|(_, row)| row),
            _ => None,
        }
    }

    /// The innermost open row.
    pub fn current(&mut self) -> Option<&mut T> {
        self.open.last_mut().map(|(_, row)| row)
    }

    /// Rows still open at the end of the document.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.open.drain(..).map(|(_, row)| row)
    }
}
