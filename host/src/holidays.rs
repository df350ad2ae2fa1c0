//! The State Council's holiday schedules, shipped with the host: the weekdays off and the
//! weekend days worked (调休) of each year it has published, with the notice each comes
//! from. A platform's tick carries them, with any days its calendar adds
//! ([`crate::registry::Registry::calendar_around`]), so that a policy counting working
//! days (Zhejiang education's 7) counts the days the law does without anyone setting
//! them, and replay counts the same days from the journal.

/// One year's schedule, as the State Council's notice gives it.
pub struct Schedule {
    /// The notice.
    pub source: &'static str,
    /// Weekdays off, `YYYY-MM-DD` (the holidays that fall on a weekend are off anyway).
    pub holidays: &'static [&'static str],
    /// Weekend days worked, `YYYY-MM-DD`.
    pub workdays: &'static [&'static str],
}

/// The schedules shipped, by year.
pub const SCHEDULES: [Schedule; 2] = [
    Schedule {
        source: "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）",
        holidays: &[
            "2025-01-01",
            "2025-01-28",
            "2025-01-29",
            "2025-01-30",
            "2025-01-31",
            "2025-02-03",
            "2025-02-04",
            "2025-04-04",
            "2025-05-01",
            "2025-05-02",
            "2025-05-05",
            "2025-06-02",
            "2025-10-01",
            "2025-10-02",
            "2025-10-03",
            "2025-10-06",
            "2025-10-07",
            "2025-10-08",
        ],
        workdays: &["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    },
    Schedule {
        source: "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日，新华社）",
        holidays: &[
            "2026-01-01",
            "2026-01-02",
            "2026-02-16",
            "2026-02-17",
            "2026-02-18",
            "2026-02-19",
            "2026-02-20",
            "2026-02-23",
            "2026-04-06",
            "2026-05-01",
            "2026-05-04",
            "2026-05-05",
            "2026-06-19",
            "2026-09-25",
            "2026-10-01",
            "2026-10-02",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07",
        ],
        workdays: &[
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ],
    },
];

/// The shipped weekdays off and weekend days worked, as days since 1970-01-01.
pub fn shipped() -> (Vec<i64>, Vec<i64>) {
    let numbers = |days: &[&str]| -> Vec<i64> {
        days.iter()
            .map(|day| crate::clock::day_number(day).expect("a shipped day is a date"))
            .collect()
    };
    SCHEDULES
        .iter()
        .fold((Vec::new(), Vec::new()), |(mut holidays, mut workdays), schedule| {
            holidays.extend(numbers(schedule.holidays));
            workdays.extend(numbers(schedule.workdays));
            (holidays, workdays)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped holiday is a weekday and every shipped workday a weekend day, as a
    /// calendar's days must be; and each year's notice gives its days off in all: 2025's
    /// 18 weekdays, 2026's 19.
    #[test]
    fn the_shipped_days_are_weekdays_off_and_weekend_days_worked() {
        let (holidays, workdays) = shipped();
        // 1970-01-01 was a Thursday.
        let weekend = |day: &i64| (day + 3).rem_euclid(7) >= 5;
        assert!(holidays.iter().all(|day| !weekend(day)));
        assert!(workdays.iter().all(weekend));
        assert_eq!(SCHEDULES.map(|schedule| schedule.holidays.len()), [18, 19]);
    }
}
