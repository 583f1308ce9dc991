//! Confirmation before undoing migrations (`down`, `redo`) and before recording history that no
//! run wrote (`repair`): a question on a terminal, `--yes` everywhere else. Outside a terminal nobody can answer, and a script that waits forever on a
//! prompt is worse than one that fails at once saying which flag it needs.

use std::io::{BufRead, IsTerminal, Write};

/// How a command that undoes migrations gets its go-ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// `--yes`: run without asking.
    Given,
    /// Ask on the terminal.
    Ask,
}

/// Why the go-ahead was not given.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(
        "`migrator {command}` {does} and stdin is not a terminal to confirm on; pass `--yes` to run it without asking"
    )]
    NotATerminal { command: &'static str, does: &'static str },
    #[error("not confirmed; nothing was changed")]
    Declined,
    #[error("cannot read the answer from the terminal: {0}; nothing was changed")]
    Unreadable(#[source] std::io::Error),
    /// The question is asked before the run lock is taken; under the lock the history said
    /// something else than what was confirmed.
    #[error(
        "the history changed while the question was open (another migrator ran meanwhile): `migrator {command}` \
         would now undo {now}, not what was confirmed; nothing was changed; run it again to see the new question"
    )]
    Changed { command: &'static str, now: String },
}

impl Confirmation {
    /// `--yes`, or a terminal to ask on, or a usage error naming what `command` `does`
    /// (`undoes migrations`). `down` and `redo` decide before anything connects; `repair` once
    /// it has printed what it would record.
    pub fn for_command(command: &'static str, does: &'static str, yes: bool) -> Result<Confirmation, ConfirmError> {
        if yes {
            Ok(Confirmation::Given)
        } else if std::io::stdin().is_terminal() {
            Ok(Confirmation::Ask)
        } else {
            Err(ConfirmError::NotATerminal { command, does })
        }
    }

    /// Prints `what` and asks `Continue? [y/N]` on stderr (stdout may be redirected), unless
    /// already given. Only `y` or `yes` goes ahead.
    pub fn obtain(self, what: &str) -> Result<(), ConfirmError> {
        if self == Confirmation::Given {
            return Ok(());
        }
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{what}\nContinue? [y/N] ");
        let _ = stderr.flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).map_err(ConfirmError::Unreadable)?;
        if is_yes(&answer) {
            Ok(())
        } else {
            Err(ConfirmError::Declined)
        }
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_confirms() {
        for answer in ["y\n", "Y", " yes \n", "YES"] {
            assert!(is_yes(answer), "{answer:?}");
        }
        for answer in ["", "\n", "n", "no", "yep", "sure"] {
            assert!(!is_yes(answer), "{answer:?}");
        }
    }

    #[test]
    fn yes_needs_no_terminal() {
        assert_eq!(Confirmation::for_command("down", "undoes migrations", true).ok(), Some(Confirmation::Given));
        assert!(Confirmation::Given.obtain("undo everything").is_ok());
    }
}
