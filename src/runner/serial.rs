//! `--serial` and `--canary`: the batches a run goes through, with Ansible's meaning of `serial`
//! (a list of sizes, the last repeating; a percentage of the selected hosts, rounded down, at
//! least one), so that a bad release stops spreading after the first batch.

use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;

/// One batch's size: a number of hosts, or a share of the selected hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// This many hosts.
    Hosts(NonZeroUsize),
    /// This percentage (1 to 100) of the selected hosts, rounded down, at least one.
    Percent(u8),
}

impl BatchSize {
    /// How many hosts out of `selected`: Ansible's `pct_to_int` (`int(pct / 100 * n) or 1`).
    pub fn of(self, selected: usize) -> usize {
        match self {
            Self::Hosts(n) => n.get(),
            Self::Percent(p) => (usize::from(p) * selected / 100).max(1),
        }
    }
}

impl fmt::Display for BatchSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hosts(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The batches of a run, in order: the last size repeats until every host had its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serial(Vec<BatchSize>);

impl Serial {
    /// Every host in one batch: a run without `--serial`.
    pub fn all_at_once() -> Self {
        Self(vec![BatchSize::Percent(100)])
    }

    /// `--canary`: a first batch of one host before these batches.
    pub fn after_a_canary(self) -> Self {
        let one = BatchSize::Hosts(NonZeroUsize::MIN);
        Self(std::iter::once(one).chain(self.0).collect())
    }

    /// The sizes of the batches of `selected` hosts, in order; they add up to `selected`.
    pub fn batches(&self, selected: usize) -> Vec<usize> {
        let mut sizes = Vec::new();
        let mut left = selected;
        let mut sizes_given = self.0.iter();
        let last = self.0.last().copied().unwrap_or(BatchSize::Percent(100));
        while left > 0 {
            let size = sizes_given.next().copied().unwrap_or(last).of(selected);
            sizes.push(size.min(left));
            left -= size.min(left);
        }
        sizes
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&sizes.join(","))
    }
}

/// Why a `--serial` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a batch size: {why}")]
pub struct SerialError {
    text: String,
    why: &'static str,
}

impl FromStr for Serial {
    type Err = SerialError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = |item: &str, why| SerialError {
            text: item.to_owned(),
            why,
        };
        let sizes = text
            .split(',')
            .map(str::trim)
            .map(|item| match item.strip_suffix('%') {
                Some(percent) => match percent.parse::<u8>() {
                    Ok(p @ 1..=100) => Ok(BatchSize::Percent(p)),
                    _ => Err(refuse(item, "a percentage is 1% to 100%")),
                },
                None => item
                    .parse::<NonZeroUsize>()
                    .map(BatchSize::Hosts)
                    .map_err(|_| {
                        refuse(
                            item,
                            "give a number of hosts (1 or more) or a percentage, e.g. `1,5,25%`",
                        )
                    }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(sizes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(serial: &str, selected: usize) -> Vec<usize> {
        serial.parse::<Serial>().unwrap().batches(selected)
    }

    #[test]
    fn batches_follow_ansibles_serial() {
        let cases: &[(&str, usize, &[usize])] = &[
            ("1", 3, &[1, 1, 1]),
            ("2", 5, &[2, 2, 1]),
            // The last size repeats.
            ("1,5,25%", 20, &[1, 5, 5, 5, 4]),
            // Percentages are of the selected hosts, rounded down, at least one.
            ("1,50%", 5, &[1, 2, 2]),
            ("30%", 10, &[3, 3, 3, 1]),
            ("10%", 5, &[1, 1, 1, 1, 1]),
            ("100%", 7, &[7]),
            // A size larger than what is left takes what is left.
            ("10", 3, &[3]),
            ("1, 2", 4, &[1, 2, 1]),
        ];
        for (serial, selected, sizes) in cases {
            assert_eq!(batches(serial, *selected), *sizes, "{serial} of {selected}");
        }
        assert_eq!(Serial::all_at_once().batches(4), [4]);
        assert_eq!(Serial::all_at_once().batches(0), Vec::<usize>::new());
    }

    #[test]
    fn a_canary_is_a_first_batch_of_one() {
        let canary = Serial::all_at_once().after_a_canary();
        assert_eq!(canary.batches(5), [1, 4]);
        assert_eq!(canary.to_string(), "1,100%");
        let serial: Serial = "2,50%".parse().unwrap();
        assert_eq!(serial.after_a_canary().batches(6), [1, 2, 3]);
    }

    #[test]
    fn sizes_that_cannot_be_batches_are_refused_with_the_item() {
        for (text, item) in [
            ("0", "0"),
            ("1,0%", "0%"),
            ("101%", "101%"),
            ("", ""),
            ("1,,2", ""),
            ("-1", "-1"),
            ("five", "five"),
            ("5 %", "5 %"),
        ] {
            let error = text.parse::<Serial>().unwrap_err();
            assert_eq!(error.text, item, "{text}");
        }
        assert_eq!(
            "0".parse::<Serial>().unwrap_err().to_string(),
            "`0` is not a batch size: give a number of hosts (1 or more) or a percentage, e.g. `1,5,25%`"
        );
    }
}
